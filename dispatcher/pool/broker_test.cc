// The broker's bookkeeping of workers that come and go, against real ZeroMQ peers on an in-process endpoint.
#include "dispatcher/pool/broker.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/zmq_frames.h"

namespace tsdsr::dispatcher {
namespace {

proto::WorkerDescription Describe(const std::string& id, std::int64_t pid) {
  proto::WorkerDescription d;
  d.id = id;
  d.pid = pid;
  d.host = "host-a";
  d.device = "cpu";
  d.model_name = "bicubic";
  d.scales = {2};
  return d;
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions options;
    options.endpoint = "inproc://broker-test";
    auto broker = Broker::Create(options, context_, metrics_);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
  }
  void TearDown() override {
    if (broker_) broker_->Stop();
  }

  // A DEALER connected to the broker that has sent READY for `description`.
  std::unique_ptr<zmq::socket_t> Connect(const proto::WorkerDescription& description) {
    auto socket = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    ConfigureSocket(*socket, 0, /*router=*/false);
    socket->connect("inproc://broker-test");
    EXPECT_TRUE(SendMessage(*socket, "", proto::Make(proto::Command::kReady, description)).ok());
    return socket;
  }

  // The broker's snapshot once `until` holds for it (the test fails after 5 s).
  PoolSnapshot WaitFor(const std::function<bool(const PoolSnapshot&)>& until) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    PoolSnapshot snapshot = broker_->Snapshot();
    while (!until(snapshot) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      snapshot = broker_->Snapshot();
    }
    EXPECT_TRUE(until(snapshot)) << "the broker did not get there in 5 s";
    return snapshot;
  }

  zmq::context_t context_;
  Metrics metrics_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(BrokerTest, AWorkerThatRegistersAgainOnANewConnectionReplacesItsOldRegistration) {
  auto first = Connect(Describe("w-1", 100));
  WaitFor([](const PoolSnapshot& s) { return s.workers.size() == 1; });
  auto again = Connect(Describe("w-1", 100));  // the same process, reconnected after a stall
  PoolSnapshot snapshot = WaitFor([](const PoolSnapshot& s) { return s.departed.size() == 1; });
  ASSERT_EQ(snapshot.workers.size(), 1u);
  EXPECT_EQ(snapshot.workers[0].description.id, "w-1");
  EXPECT_EQ(snapshot.departed[0].description.id, "w-1");
  EXPECT_EQ(snapshot.departed[0].reason, "it registered again on a new connection");
  EXPECT_GT(snapshot.departed[0].gone_unix_ms, 0);
}

TEST_F(BrokerTest, TwoProcessesWithOneNameAreBothKept) {
  auto first = Connect(Describe("w-1", 100));
  auto second = Connect(Describe("w-1", 200));  // a second process given the same --id: not a reconnection
  PoolSnapshot snapshot = WaitFor([](const PoolSnapshot& s) { return s.workers.size() == 2; });
  EXPECT_TRUE(snapshot.departed.empty());
}

TEST_F(BrokerTest, DroppedWorkersAreRememberedNewestFirstUpToABound) {
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  const int n = static_cast<int>(kMaxDeparted) + 2;
  for (int i = 0; i < n; ++i) {
    sockets.push_back(Connect(Describe("w-" + std::to_string(i), 100 + i)));
    WaitFor([i](const PoolSnapshot& s) { return s.workers.size() == static_cast<size_t>(i + 1); });
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(SendMessage(*sockets[i], "", proto::Make(proto::Command::kDisconnect,
                                                         proto::DisconnectHeader{"stopping"})).ok());
    WaitFor([i, n](const PoolSnapshot& s) { return s.workers.size() == static_cast<size_t>(n - i - 1); });
  }
  PoolSnapshot snapshot = broker_->Snapshot();
  ASSERT_EQ(snapshot.departed.size(), kMaxDeparted);
  EXPECT_EQ(snapshot.departed.front().description.id, "w-" + std::to_string(n - 1));
  EXPECT_EQ(snapshot.departed.back().description.id, "w-2");
  EXPECT_EQ(snapshot.departed.front().reason, "worker disconnected");
  EXPECT_EQ(snapshot.workers_lost, n);
}

}  // namespace
}  // namespace tsdsr::dispatcher

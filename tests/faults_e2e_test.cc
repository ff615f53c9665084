// Faults the pool must survive without losing an accepted job: workers killed or frozen mid-burst, a
// dispatcher restarted under running workers, a rogue peer on the worker socket, a model that cannot load.
#include <signal.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/protocol.h"
#include "common/zmq_frames.h"
#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

constexpr int kBurst = 100;

struct BurstResult {
  int ok = 0;      // 200 with the right image
  int other = 0;   // anything else
  std::string first_problem;
};

// Sends `count` concurrent requests (one thread and connection each) and checks every answer; `during`
// runs on the calling thread while they are in flight.
BurstResult Burst(Cluster& cluster, int count, const std::function<void()>& during) {
  const cv::Mat input = TestImage(24, 16, 3);
  const std::string png = EncodePng(input);
  const cv::Mat expected = Nearest2x(input);
  std::mutex mu;
  BurstResult result;
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&] {
      auto http = client::HttpClient::Create(cluster.base_url(), std::chrono::seconds(120));
      auto r = (*http)->PostRaw("/upscale?upscale=2&process_size=64", "image/png", png);
      bool good = r.ok() && r->status == 200 && MaxAbsDiff(DecodeBytes(r->body), expected) == 0;
      std::lock_guard<std::mutex> lock(mu);
      if (good) {
        ++result.ok;
      } else {
        ++result.other;
        if (result.first_problem.empty()) {
          result.first_problem = r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString();
        }
      }
    });
  }
  during();
  for (auto& t : threads) t.join();
  return result;
}

// Waits until some worker holds a job and returns its pid.
int BusyWorkerPid(Cluster& cluster) {
  for (int i = 0; i < 500; ++i) {
    const nlohmann::json info = cluster.GetJson("/info");  // kept alive for the loop
    for (const auto& w : info["workers"]) {
      if (w["in_flight"].get<int>() > 0) return w["pid"].get<int>();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "no worker ever held a job";
  return 0;
}

TEST(FaultsE2eTest, KillingAWorkerMidBurstLosesNoJob) {
  auto cluster = Cluster::Start(3, {"--model", "simulated:100"});
  ASSERT_NE(cluster, nullptr);
  auto result = Burst(*cluster, kBurst, [&] {
    int victim = BusyWorkerPid(*cluster);
    ASSERT_GT(victim, 0);
    kill(victim, SIGKILL);
  });
  EXPECT_EQ(result.ok, kBurst) << result.first_problem;
  EXPECT_EQ(result.other, 0);
  // The supervisor brings the worker back and counts the restart.
  std::string metrics;
  for (int i = 0; i < 300 && metrics.find("tsdsr_worker_restarts_total 1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    metrics = cluster->http().Get("/metrics")->body;
  }
  EXPECT_NE(metrics.find("tsdsr_worker_restarts_total 1"), std::string::npos);
  EXPECT_TRUE(cluster->WaitForWorkers(3, std::chrono::seconds(30)));
}

TEST(FaultsE2eTest, AFrozenWorkerIsDroppedAndItsJobsServedElsewhere) {
  auto cluster = Cluster::Start(3, {"--model", "simulated:100"});
  ASSERT_NE(cluster, nullptr);
  int frozen = 0;
  auto result = Burst(*cluster, kBurst, [&] {
    frozen = BusyWorkerPid(*cluster);
    ASSERT_GT(frozen, 0);
    kill(frozen, SIGSTOP);
  });
  EXPECT_EQ(result.ok, kBurst) << result.first_problem;
  EXPECT_EQ(result.other, 0);
  auto stats = cluster->GetJson("/stats");
  EXPECT_GE(stats["workers_lost"].get<int>(), 1);
  kill(frozen, SIGCONT);  // it comes back, is told it is unknown, and registers again
  EXPECT_TRUE(cluster->WaitForWorkers(3, std::chrono::seconds(30)));
}

TEST(FaultsE2eTest, RogueMessagesOnTheWorkerSocketAreDroppedAndServiceGoesOn) {
  TempDir dir;
  ClusterOptions options;
  options.workers = 1;
  options.worker_endpoint = "ipc://" + dir.File("workers.sock");
  auto cluster = Cluster::Start(options);
  ASSERT_NE(cluster, nullptr);

  zmq::context_t context;
  zmq::socket_t rogue(context, zmq::socket_type::dealer);
  ConfigureSocket(rogue, 0, /*router=*/false);
  rogue.connect(options.worker_endpoint);
  const std::string result_cmd(1, static_cast<char>(proto::Command::kResult));
  const std::vector<std::vector<std::string>> garbage = {
      {"HTTP", result_cmd, "{}"},                                    // wrong tag
      {"TSR1"},                                                      // too few frames
      {"TSR1", std::string(1, '\x7f'), "{}"},                        // unknown command
      {"TSR1", result_cmd, "{not json"},                             // bad JSON
      {"TSR1", result_cmd, R"({"job_id": 424242, "status": "ok"})", "payload"},  // unknown job, unregistered
      {"TSR1", std::string(1, static_cast<char>(proto::Command::kReady)), R"({"id": 5})"},  // bad READY
  };
  for (const auto& frames : garbage) ASSERT_TRUE(SendFrames(rogue, frames).ok());
  // A registered rogue that answers a job it never got.
  proto::WorkerDescription fake;
  fake.id = "rogue";
  fake.device = "cpu";
  fake.scales = {2};
  fake.slots = 1;
  fake.status = "error";  // never scheduled, so real jobs are not sent to it
  fake.error = "test peer";
  ASSERT_TRUE(SendMessage(rogue, "", proto::Make(proto::Command::kReady, fake)).ok());
  proto::ResultHeader bogus;
  bogus.job_id = 99999;
  ASSERT_TRUE(SendMessage(rogue, "", proto::Make(proto::Command::kResult, bogus, {"x"})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  auto r = cluster->http().PostRaw("/upscale", "image/png", EncodePng(TestImage(10, 10)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  auto health = cluster->GetJson("/health");
  EXPECT_EQ(health["workers"]["total"], 2) << "the real worker and the registered rogue";
}

TEST(FaultsE2eTest, DispatcherRestartIsRecoveredByRunningWorkers) {
  TempDir dir;
  ClusterOptions options;
  options.workers = 0;
  options.wait_for_ready = 0;
  options.worker_endpoint = "ipc://" + dir.File("workers.sock");
  auto first = Cluster::Start(options);
  ASSERT_NE(first, nullptr);
  TestProcess worker({Program("tsdsr-worker"), "--connect", options.worker_endpoint, "--model", "bicubic",
                      "--heartbeat-ms", "200", "--id", "remote-1", "--log-level", "warn"});
  ASSERT_TRUE(first->WaitForWorkers(1, std::chrono::seconds(30)));
  kill(first->pid(), SIGKILL);
  first.reset();

  auto second = Cluster::Start(options);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->WaitForWorkers(1, std::chrono::seconds(30))) << "the worker re-registers by itself";
  auto r = second->http().PostRaw("/upscale", "image/png", EncodePng(TestImage(10, 10)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->headers["x-worker"], "remote-1");
}

TEST(FaultsE2eTest, AModelThatCannotLoadIsShownNotRestarted) {
  std::string error;
  // simulated:999999999 is refused by the worker's model, not by the flags' check.
  auto cluster = Cluster::StartWithFailedModel({"--device", "cpu", "--model", "simulated:999999999"}, &error);
  ASSERT_NE(cluster, nullptr);
  EXPECT_NE(error.find("simulated"), std::string::npos) << error;
  auto r = cluster->http().PostRaw("/upscale", "image/png", EncodePng(TestImage(10, 10)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("cannot serve"), std::string::npos) << r->body;
  EXPECT_FALSE(r->headers["retry-after"].empty());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto metrics = cluster->http().Get("/metrics");
  EXPECT_NE(metrics->body.find("tsdsr_worker_restarts_total 0"), std::string::npos) << "no restart loop";
}

}  // namespace
}  // namespace tsdsr::testing

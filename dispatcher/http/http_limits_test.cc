// The front door's bounds: bodies held once and counted in the memory budget from their head until their response
// is written, refused with 503 and Retry-After before they are read when they do not fit; open connections capped
// with a clear refusal; pipelined and chunked bodies framed by the transport itself.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dispatcher/http/http_server.h"
#include "dispatcher/http/http_testing.h"
#include "common/memory_budget.h"

namespace tsdsr::dispatcher {
namespace {

using testing::HttpServerTest;
using testing::RawClient;
using std::chrono::milliseconds;

std::string Post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

class HttpLimitsTest : public HttpServerTest {
 protected:
  uint16_t StartWithBudget(std::int64_t bytes) {
    budget_ = MemoryBudget::Create(bytes);
    HttpServerOptions options;
    options.budget = budget_;
    options.retry_after_s = [] { return 7; };
    return StartServer(options);
  }
  std::shared_ptr<MemoryBudget> budget_;
};

TEST_F(HttpLimitsTest, TheRouteTakesTheOnlyCopyOfTheBody) {
  RawClient client(StartServer());
  ASSERT_TRUE(client.Send(Post("/echo", std::string(100000, 'b'))));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  const auto reply = nlohmann::json::parse(response->body);
  EXPECT_EQ(reply["bytes"], 100000);
  EXPECT_EQ(reply["pistache_bytes"], 0) << "Pistache never buffers the body";
}

TEST_F(HttpLimitsTest, ABodyOverTheBudgetIsRefusedBeforeItIsRead) {
  RawClient client(StartWithBudget(1000));
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 503) << "and no 100 Continue first";
  EXPECT_EQ(response->Header("retry-after"), "7");
  EXPECT_EQ(nlohmann::json::parse(response->body)["code"], "unavailable");
  EXPECT_NE(response->body.find("memory budget"), std::string::npos) << response->body;
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(budget_->used(), 0);
  EXPECT_EQ(budget_->refusals(), 1);
  ExpectStillServing();
}

TEST_F(HttpLimitsTest, AClientThatSendsARefusedBodyAnywayStillReadsTheRefusal) {
  RawClient client(StartWithBudget(1000));
  const std::string body(20 << 20, 'x');  // more than the 8 MiB a closing connection otherwise drops
  ASSERT_TRUE(client.Send(Post("/echo", body))) << "the server reads what it refused";
  auto response = client.Read();
  ASSERT_TRUE(response.has_value()) << "no reset before the answer";
  EXPECT_EQ(response->status, 503);
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpLimitsTest, RefusalsAreWrittenWhileTheirBodiesKeepComing) {
  // Pistache writes a response on a writable event and takes one that is also readable as readable only: while a
  // refused body keeps the connection readable, its 503 must still go out. Many clients at once keep the server
  // busy enough that their input is always pending when it polls.
  const uint16_t port = StartWithBudget(1000);
  const std::string body(16 << 20, 'x');
  constexpr int kClients = 16;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      RawClient client(port, std::chrono::seconds(60));
      if (!client.Send(Post("/echo", body))) return;
      auto response = client.Read(milliseconds(20000));
      if (response.has_value() && response->status == 503) ++answered;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(answered.load(), kClients);
  ExpectStillServing();
}

TEST_F(HttpLimitsTest, ABodyIsCountedUntilItsAnswerIsWrittenThenGivenBack) {
  RawClient first(StartWithBudget(1000));
  ASSERT_TRUE(first.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 800\r\n\r\n" + std::string(300, 'x')));
  ASSERT_TRUE(testing::WaitUntil([&] { return budget_->used() == 800; }));
  RawClient second(server_->port());
  ASSERT_TRUE(second.Send(Post("/echo", std::string(300, 'y'))));
  auto refused = second.Read();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503) << "800 of 1000 bytes are held by the first body";
  ASSERT_TRUE(first.Send(std::string(500, 'x')));
  auto answered = first.Read();
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->status, 200);
  ASSERT_TRUE(testing::WaitUntil([&] { return budget_->used() == 0; }));
  RawClient third(server_->port());
  ASSERT_TRUE(third.Send(Post("/echo", std::string(300, 'z'))));
  auto accepted = third.Read();
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(accepted->status, 200);
  EXPECT_GE(budget_->peak(), 800);
}

TEST_F(HttpLimitsTest, ChunkedBodiesGrowWithinTheBudget) {
  RawClient client(StartWithBudget(100));
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n" +
                          std::string(50, 'a') + "\r\n"));
  ASSERT_TRUE(client.Send("3c\r\n" + std::string(60, 'b') + "\r\n0\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 503) << "110 bytes do not fit in 100";
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(budget_->used(), 0);
}

TEST_F(HttpLimitsTest, AMalformedChunkedBodyIsABadRequest) {
  RawClient client(StartServer());
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("chunk size"), std::string::npos) << response->body;
  ExpectStillServing();
}

TEST_F(HttpLimitsTest, PipelinedRequestsEachGetTheirOwnBody) {
  RawClient client(StartServer());
  ASSERT_TRUE(client.Send(Post("/echo", "abc") + Post("/echo", std::string(70000, 'q')) +
                          "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  for (int expected : {3, 70000}) {
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(nlohmann::json::parse(response->body)["bytes"], expected);
  }
  auto hello = client.Read();
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->body, "hello");
}

TEST_F(HttpLimitsTest, ConnectionsOverTheMaximumAreRefusedAndClosed) {
  HttpServerOptions options;
  options.max_connections = 3;
  const uint16_t port = StartServer(options);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawClient>(port));
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->open_connections() == 3; }));
  auto extra = std::make_unique<RawClient>(port);
  auto refused = extra->Read();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "1");
  EXPECT_NE(refused->body.find("too many open connections"), std::string::npos) << refused->body;
  EXPECT_TRUE(extra->WaitClosed());
  EXPECT_EQ(server_->refused_connections(), 1);
  EXPECT_EQ(server_->open_connections(), 4) << "the refused one is open until its client closes or the linger ends";
  extra.reset();
  held.pop_back();
  ASSERT_TRUE(testing::WaitUntil([&] { return server_->open_connections() == 2; }));
  ExpectStillServing();
}

}  // namespace
}  // namespace tsdsr::dispatcher

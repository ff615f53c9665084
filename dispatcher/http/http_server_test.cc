#include "dispatcher/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pistache/router.h>
#include <nlohmann/json.hpp>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_testing.h"
#include "dispatcher/http/multipart.h"

namespace tsdsr::dispatcher {
namespace {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
using std::chrono::milliseconds;

using testing::HttpServerTest;
using testing::RawClient;
using testing::Response;

TEST_F(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  RawClient client(StartServer());
  const size_t size = size_t{2} << 20;
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
                  "Content-Length: " +
                  std::to_string(size) + "\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.Read(milliseconds(2000));  // curl would wait 1 s before sending anyway
  ASSERT_TRUE(interim.has_value()) << "no 100 Continue";
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.Send(std::string(size, 'x')));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(response->body)["bytes"], size);
  EXPECT_EQ(response->Header("connection"), "");  // HTTP/1.1 keeps the connection without saying so
}

TEST_F(HttpServerTest, CurlUploadGetsContinueAndIsParsed) {
  if (std::system("curl --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "curl is not installed";
  const uint16_t port = StartServer();
  const std::string path = ::testing::TempDir() + "tsdsr_upload_" + std::to_string(::getpid()) + ".bin";
  const size_t size = size_t{2} << 20;
  std::ofstream(path, std::ios::binary) << std::string(size, '\r');
  const std::string command =
      "curl -sS -v -m 20 -F file=@" + path +
      " -w '\\nstatus=%{http_code} time=%{time_total}\\n' http://127.0.0.1:" + std::to_string(port) + "/echo 2>&1";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char chunk[4096];
    for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) output.append(chunk, n);
    ::pclose(pipe);
  }
  ::unlink(path.c_str());
  EXPECT_NE(output.find("> Expect: 100-continue"), std::string::npos) << output;
  EXPECT_NE(output.find("< HTTP/1.1 100 Continue"), std::string::npos) << output;
  EXPECT_NE(output.find("\"file_bytes\":" + std::to_string(size)), std::string::npos) << output;
  const size_t status = output.rfind("status=");
  ASSERT_NE(status, std::string::npos) << output;
  EXPECT_EQ(output.compare(status, 10, "status=200"), 0) << output;
  std::printf("curl: %s", output.substr(status).c_str());  // the time is informative only
}

TEST_F(HttpServerTest, OverLimitBodyGets413AndTheConnectionCloses) {
  HttpServerOptions options;
  options.max_request_bytes = size_t{1} << 20;
  RawClient client(StartServer(options));
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3145728\r\n\r\n"));
  ASSERT_TRUE(client.Send(std::string(65536, 'x')));  // the body starts arriving; it is not waited for
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(response->Header("connection"), "Close");
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["code"], "too_large");
  EXPECT_NE(body["error"].get<std::string>().find("1 MiB"), std::string::npos) << body.dump();
  EXPECT_TRUE(client.WaitClosed());
  ExpectStillServing();
}

TEST_F(HttpServerTest, OverLimitWithExpectOrAStillSendingClient) {
  HttpServerOptions options;
  options.max_request_bytes = 1024;
  const uint16_t port = StartServer(options);
  RawClient expecting(port);
  ASSERT_TRUE(expecting.Send("POST /echo HTTP/1.1\r\nContent-Length: 1025\r\nExpect: 100-continue\r\n\r\n"));
  auto response = expecting.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);  // and no 100 Continue before it
  EXPECT_TRUE(expecting.WaitClosed());

  RawClient sending(port);  // keeps sending its 100 MB body: it gets the 413, then is cut off
  ASSERT_TRUE(sending.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
  const std::string block(1 << 20, 'x');
  for (int i = 0; i < 16 && sending.Send(block); ++i) {
  }
  response = sending.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(sending.WaitClosed());
  ExpectStillServing();
}

TEST_F(HttpServerTest, Http11KeepsTheConnectionWithoutAConnectionHeader) {
  RawClient client(StartServer());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello");
    EXPECT_EQ(response->Header("connection"), "");
  }
  // Pipelined: two requests in one write, including one with a body.
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /hello HTTP/1.1\r\n\r\n"));
  auto first = client.Read();
  auto second = client.Read();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(nlohmann::json::parse(first->body)["bytes"], 3);
  EXPECT_EQ(second->body, "hello");
}

TEST_F(HttpServerTest, ConnectionCloseClosesAfterTheResponse) {
  const uint16_t port = StartServer();
  // Answered on the I/O thread, and later from another thread as the broker does.
  for (const std::string path : {"/hello", "/async"}) {
    RawClient client(port);
    ASSERT_TRUE(client.Send("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("connection"), "Close");
    EXPECT_TRUE(client.WaitClosed()) << path;
  }
  ExpectStillServing();
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  const uint16_t port = StartServer();
  RawClient once(port);
  ASSERT_TRUE(once.Send("GET /hello HTTP/1.0\r\n\r\n"));
  auto response = once.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("connection"), "Close");
  EXPECT_TRUE(once.WaitClosed());

  RawClient kept(port);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(kept.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto kept_response = kept.Read();
    ASSERT_TRUE(kept_response.has_value()) << "request " << i;
    EXPECT_EQ(kept_response->Header("connection"), "Keep-Alive");
  }
}

TEST_F(HttpServerTest, BadRequestsGetJsonErrorsAndTheServerKeepsServing) {
  const uint16_t port = StartServer();
  const std::pair<std::string, int> cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"POST /echo HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", 400},
      {"GET /hello HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n", 431},
  };
  for (const auto& [request, status] : cases) {
    RawClient client(port);
    ASSERT_TRUE(client.Send(request));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value()) << request.substr(0, 40);
    EXPECT_EQ(response->status, status) << request.substr(0, 40);
    EXPECT_EQ(response->Header("content-type"), "application/json");
    EXPECT_FALSE(nlohmann::json::parse(response->body)["error"].get<std::string>().empty());
    EXPECT_TRUE(client.WaitClosed()) << request.substr(0, 40);
    ExpectStillServing();
  }
}

TEST_F(HttpServerTest, PistacheParseErrorsCloseTheConnection) {
  RawClient client(StartServer());
  ASSERT_TRUE(client.Send("BREW /hello HTTP/1.1\r\nHost: t\r\n\r\n"));  // Pistache refuses unknown methods itself
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_GE(response->status, 400);
  EXPECT_TRUE(client.WaitClosed());
  ExpectStillServing();
}

TEST_F(HttpServerTest, ChunkedUpload) {
  RawClient client(StartServer());
  ASSERT_TRUE(
      client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["bytes"], 11);
}

TEST_F(HttpServerTest, ErrorsAreJson) {
  RawClient client(StartServer());
  ASSERT_TRUE(client.Send("GET /unavailable HTTP/1.1\r\n\r\nGET /nowhere HTTP/1.1\r\n\r\nGET /throw HTTP/1.1\r\n\r\n"));
  auto unavailable = client.Read();
  ASSERT_TRUE(unavailable.has_value());
  EXPECT_EQ(unavailable->status, 503);
  EXPECT_EQ(unavailable->Header("content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(unavailable->body),
            nlohmann::json({{"error", "queue full"}, {"code", "unavailable"}}));
  auto not_found = client.Read();
  ASSERT_TRUE(not_found.has_value());
  EXPECT_EQ(not_found->status, 404);
  EXPECT_EQ(nlohmann::json::parse(not_found->body)["code"], "not_found");
  auto thrown = client.Read();
  ASSERT_TRUE(thrown.has_value());
  EXPECT_EQ(thrown->status, 500);
  EXPECT_NE(nlohmann::json::parse(thrown->body)["error"].get<std::string>().find("boom"), std::string::npos);
}

TEST_F(HttpServerTest, SlowHeadersTimeOut) {
  HttpServerOptions options;
  options.header_timeout = milliseconds(300);
  RawClient client(StartServer(options));
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHo"));
  auto response = client.Read();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(nlohmann::json::parse(response->body)["code"], "deadline_exceeded");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionsAreClosed) {
  HttpServerOptions options;
  options.keepalive_timeout = milliseconds(300);
  RawClient client(StartServer(options));
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(client.Read().has_value());
  EXPECT_TRUE(client.WaitClosed());
}

size_t OpenFileDescriptors() {
  std::filesystem::directory_iterator fds("/proc/self/fd");
  return static_cast<size_t>(std::distance(std::filesystem::begin(fds), std::filesystem::end(fds)));
}

TEST_F(HttpServerTest, ClosedConnectionsAreReleased) {
  const uint16_t port = StartServer();
  ExpectStillServing();  // let the I/O threads settle
  const size_t before = OpenFileDescriptors();
  for (int i = 0; i < 20; ++i) {
    RawClient closing(port);
    ASSERT_TRUE(closing.Send("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(closing.Read().has_value());
    EXPECT_TRUE(closing.WaitClosed());
    RawClient leaving(port);  // the client closes a keep-alive connection
    ASSERT_TRUE(leaving.Send("GET /hello HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(leaving.Read().has_value());
  }
  size_t after = OpenFileDescriptors();
  for (int i = 0; i < 50 && after > before; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    after = OpenFileDescriptors();
  }
  EXPECT_LE(after, before);
}

TEST_F(HttpServerTest, ShutdownClosesOpenConnections) {
  RawClient client(StartServer());
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(client.Read().has_value());
  server_->Shutdown();
  EXPECT_TRUE(client.WaitClosed());
  RawClient refused(server_->port());
  EXPECT_FALSE(refused.connected());
}

TEST_F(HttpServerTest, PortInUseIsAnErrorNotAnException) {
  const uint16_t port = StartServer();
  HttpServerOptions options;
  options.port = port;
  auto second = HttpServer::Create(options, router_);
  ASSERT_TRUE(second.ok());
  Status status = (*second)->Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("port " + std::to_string(port) + " already in use"), std::string::npos)
      << status.ToString();
  EXPECT_EQ(server_->Start().code(), StatusCode::kFailedPrecondition);
  ExpectStillServing();
  server_->Shutdown();
  server_->Shutdown();  // idempotent
}

TEST(HttpServerCreateTest, ValidatesOptions) {
  auto router = std::make_shared<Rest::Router>();
  EXPECT_EQ(HttpServer::Create({}, nullptr).status().code(), StatusCode::kInvalidArgument);
  HttpServerOptions options;
  options.threads = 0;
  EXPECT_NE(HttpServer::Create(options, router).status().message().find("threads"), std::string::npos);
  options = {};
  options.body_timeout = milliseconds(0);
  EXPECT_NE(HttpServer::Create(options, router).status().message().find("body_timeout"), std::string::npos);
  options = {};
  options.max_request_bytes = 0;
  EXPECT_EQ(HttpServer::Create(options, router).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HttpServer::Create({}, router).ok());
}

}  // namespace
}  // namespace tsdsr::dispatcher

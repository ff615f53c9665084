// TEST ONLY (header-only): a raw HTTP/1.x client over a blocking socket, and a fixture that serves a few routes
// (hello, an echo of the body, an answer from another thread, errors) on an HttpServer with a free port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pistache/router.h>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/http/multipart.h"

namespace tsdsr::dispatcher::testing {

namespace Http = Pistache::Http;
namespace Rest = Pistache::Rest;
using std::chrono::milliseconds;

// Polls `condition` every 5 ms for up to `timeout`; its last value.
inline bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout = milliseconds(5000)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& name) const { return headers.count(name) ? headers.at(name) : ""; }
};

// A blocking TCP client with timeouts, speaking raw HTTP/1.x.
class RawClient {
 public:
  explicit RawClient(uint16_t port, std::chrono::seconds send_timeout = std::chrono::seconds(5)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const timeval send_limit{static_cast<time_t>(send_timeout.count()), 0};  // a Send the server stopped reading
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit);  // fails instead of hanging
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  // The client's own port, as the server's log names the connection.
  int local_port() const {
    sockaddr_in addr{};
    socklen_t size = sizeof addr;
    return ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size) == 0 ? ntohs(addr.sin_port) : 0;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next complete response (a 1xx has no body), or nullopt on timeout or end of stream.
  std::optional<Response> Read(milliseconds timeout = milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto response = TakeResponse()) return response;
      if (!Fill(deadline)) return std::nullopt;
    }
  }

  // True when the server closes the connection (end of stream or reset) within `timeout` and sends nothing else.
  bool WaitClosed(milliseconds timeout = milliseconds(5000)) {
    if (!buffer_.empty()) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
      if (!buffer_.empty()) return false;
    }
    return eof_;
  }

 private:
  // Reads once; false on timeout or end of stream.
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = n == 0 || errno == ECONNRESET;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  std::optional<Response> TakeResponse() {
    size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    Response response;
    response.status = std::stoi(buffer_.substr(9, 3));
    size_t pos = buffer_.find("\r\n") + 2;
    while (pos < end) {
      size_t eol = buffer_.find("\r\n", pos);
      std::string line = buffer_.substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      pos = eol + 2;
    }
    size_t length = response.status < 200 ? 0 : std::stoul("0" + response.Header("content-length"));
    if (buffer_.size() < end + 4 + length) return std::nullopt;
    response.body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return response;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = std::make_shared<Rest::Router>();
    Rest::Routes::Get(*router_, "/hello", [](const Rest::Request&, Http::ResponseWriter w) {
      SendResponse(w, Http::Code::Ok, "hello", MIME(Text, Plain));
      return Rest::Route::Result::Ok;
    });
    // Reports the body size and, for multipart bodies, the size of the `file` part.
    Rest::Routes::Post(*router_, "/echo", [](const Rest::Request& request, Http::ResponseWriter w) {
      const std::string body = TakeBody(w);
      nlohmann::json reply = {{"bytes", body.size()}, {"pistache_bytes", request.body().size()}};
      auto type = request.headers().tryGet<Http::Header::ContentType>();
      if (type && type->mime().toString().rfind("multipart/form-data", 0) == 0) {
        auto boundary = MultipartBoundary(type->mime().toString());  // toString() gives the header as received
        auto parts = boundary.ok() ? ParseMultipart(body, *boundary) : boundary.status();
        if (!parts.ok()) {
          SendError(w, parts.status());
          return Rest::Route::Result::Ok;
        }
        for (const auto& part : *parts) {
          if (part.name == "file") reply["file_bytes"] = part.body.size();
        }
      }
      SendJson(w, Http::Code::Ok, reply);
      return Rest::Route::Result::Ok;
    });
    // Answers later from another thread, as the broker does.
    Rest::Routes::Get(*router_, "/async", [this](const Rest::Request&, Http::ResponseWriter w) {
      std::lock_guard<std::mutex> lock(mu_);
      answerers_.emplace_back([w = std::move(w)]() mutable {
        std::this_thread::sleep_for(milliseconds(50));
        SendResponse(w, Http::Code::Ok, "later");
      });
      return Rest::Route::Result::Ok;
    });
    Rest::Routes::Get(*router_, "/unavailable", [](const Rest::Request&, Http::ResponseWriter w) {
      SendError(w, Status::Unavailable("queue full"));
      return Rest::Route::Result::Ok;
    });
    Rest::Routes::Get(*router_, "/throw", [](const Rest::Request&, const Http::ResponseWriter&) -> Rest::Route::Result {
      throw std::runtime_error("boom");
    });
  }

  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& thread : answerers_) thread.join();
    if (server_) server_->Shutdown();
  }

  uint16_t StartServer(HttpServerOptions options = {}) {
    options.port = 0;
    options.threads = 2;
    auto server = HttpServer::Create(options, router_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    Status started = server_->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    EXPECT_NE(server_->port(), 0);
    return server_->port();
  }

  // The server still answers a fresh connection.
  void ExpectStillServing() {
    RawClient client(server_->port());
    ASSERT_TRUE(client.Send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto response = client.Read();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello");
  }

  std::shared_ptr<Rest::Router> router_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<std::thread> answerers_;  // guarded by mu_
};

}  // namespace tsdsr::dispatcher::testing

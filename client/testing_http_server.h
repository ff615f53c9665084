// TEST ONLY (header-only, never part of a library): a tiny blocking HTTP/1.1 server on 127.0.0.1 with an
// ephemeral port, for testing HttpClient and the client commands without the dispatcher.
// One thread owned by the server object multiplexes its connections with poll() and answers requests one
// at a time through a handler; keep-alive is honoured. Bodies need a Content-Length (no chunked uploads).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tsdsr::client::testing {

struct RecordedRequest {
  std::string method;                          // "POST"
  std::string target;                          // "/upscale?upscale=2"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int connection = 0;  // 1 for the first accepted connection, 2 for the next, ...
};

struct CannedResponse {
  int status = 200;
  std::string reason = "OK";
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering (for timeout tests)
  bool close_without_reply = false;    // drop the connection instead of answering
};

class TestingHttpServer {
 public:
  using Handler = std::function<CannedResponse(const RecordedRequest&)>;

  // Binds 127.0.0.1:0 and starts the serving thread; port() is 0 if binding failed. `handler` runs on the
  // server thread.
  explicit TestingHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listen_fd_, 16) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }

  // Stops and joins the thread, closes every socket.
  ~TestingHttpServer() { Stop(); }
  TestingHttpServer(const TestingHttpServer&) = delete;
  TestingHttpServer& operator=(const TestingHttpServer&) = delete;

  // Sets the stop flag and joins the serving thread (it notices within ~20 ms). Idempotent.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& [fd, buffer] : connections_) close(fd);
    connections_.clear();
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The requests received so far (a copy). Thread-safe.
  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // How many connections were accepted so far. Thread-safe.
  int connections_accepted() const { return accepted_.load(); }

 private:
  struct Connection {
    std::string buffer;  // bytes received and not yet consumed
    int id = 0;
  };
  static constexpr int kPollMs = 20;

  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (const auto& [fd, connection] : connections_) fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), kPollMs) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int fd = accept(listen_fd_, nullptr, nullptr);
        if (fd >= 0) connections_[fd].id = ++accepted_;
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if (!ServeOne(fds[i].fd, &connections_[fds[i].fd])) {
          close(fds[i].fd);
          connections_.erase(fds[i].fd);
        }
      }
    }
  }

  // Reads one whole request from `fd` and answers it; false when the connection should be closed.
  bool ServeOne(int fd, Connection* connection) {
    RecordedRequest request;
    request.connection = connection->id;
    if (!ReadRequest(fd, connection, &request)) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
    }
    CannedResponse response = handler_(request);
    for (auto waited = std::chrono::milliseconds(0); waited < response.delay && !stop_; waited += Tick()) {
      std::this_thread::sleep_for(Tick());
    }
    if (response.close_without_reply || stop_) return false;
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + response.reason + "\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n" + response.body;
    if (!SendAll(fd, out)) return false;
    return Lower(HeaderOf(request, "connection")) != "close";
  }

  // Receives until a full request (headers + Content-Length body) is buffered, then consumes it.
  bool ReadRequest(int fd, Connection* connection, RecordedRequest* request) {
    std::string& buffer = connection->buffer;
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!Receive(fd, &buffer)) return false;
    }
    ParseHead(buffer.substr(0, header_end), request);
    std::string content_length = HeaderOf(*request, "content-length");
    std::size_t length = content_length.empty() ? 0 : std::stoul(content_length);
    if (Lower(HeaderOf(*request, "expect")) == "100-continue" && !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
      return false;
    }
    while (buffer.size() < header_end + 4 + length) {
      if (!Receive(fd, &buffer)) return false;
    }
    request->body = buffer.substr(header_end + 4, length);
    buffer.erase(0, header_end + 4 + length);
    return true;
  }

  static void ParseHead(const std::string& head, RecordedRequest* request) {
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    std::size_t space1 = request_line.find(' ');
    std::size_t space2 = request_line.find(' ', space1 + 1);
    request->method = request_line.substr(0, space1);
    request->target = request_line.substr(space1 + 1, space2 - space1 - 1);
    while (line_end != std::string::npos && line_end + 2 < head.size()) {
      std::size_t next = head.find("\r\n", line_end + 2);
      std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
      std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::size_t value_start = line.find_first_not_of(' ', colon + 1);
        request->headers[Lower(line.substr(0, colon))] =
            value_start == std::string::npos ? "" : line.substr(value_start);
      }
      line_end = next;
    }
  }

  // Appends what arrives within one poll tick (looping until data, EOF or stop).
  bool Receive(int fd, std::string* buffer) {
    while (!stop_) {
      pollfd pfd{fd, POLLIN, 0};
      if (poll(&pfd, 1, kPollMs) <= 0) continue;
      char chunk[65536];
      ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) return false;
      buffer->append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }

  static bool SendAll(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  static std::string HeaderOf(const RecordedRequest& request, const std::string& name) {
    auto it = request.headers.find(name);
    return it == request.headers.end() ? "" : it->second;
  }
  static std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  static constexpr std::chrono::milliseconds Tick() { return std::chrono::milliseconds(5); }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::map<int, Connection> connections_;  // used only by the server thread (and by Stop after the join)
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  std::thread thread_;
};

// A loopback port that nothing listens on (bound, read and closed again), for "connection refused" tests.
inline int UnusedLocalPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace tsdsr::client::testing

// The HTTP front door: owns the Pistache listener, its I/O threads and a Rest::Router, and fixes what Pistache 0.0.5
// gets wrong for an upload service: the 4 KiB request limit (raised to max_request_bytes; larger bodies get a JSON 413
// as soon as their Content-Length is seen), `Expect: 100-continue` (answered, so curl does not stall a second before
// each upload) and keep-alive (HTTP/1.1 connections stay open unless the client sends `Connection: close`, HTTP/1.0
// ones only with `Connection: keep-alive`; a connection that must close is closed by the server after the response).
//
// Route handlers must answer through SendResponse (or SendJson/SendError in http_errors.h), from any thread: it is
// what closes a `Connection: close` connection once the response is on the wire, and what starts a connection's
// keep-alive idle time. A plain ResponseWriter::send still carries the right `Connection` header, but then the server
// leaves closing to the client and never times the connection out.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <pistache/http.h>
#include <pistache/router.h>

#include "common/status.h"
#include "common/memory_budget.h"

namespace Pistache::Tcp {
class Listener;
}  // namespace Pistache::Tcp

namespace tsdsr::dispatcher {

struct ConnectionCounts;  // http_transport.h

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8090;                                 // 0 picks a free port (see HttpServer::port())
  int threads = 4;                                      // I/O threads; each owns a share of the connections
  size_t max_request_bytes = size_t{64} << 20;          // largest request body (Content-Length or chunked)
  std::chrono::milliseconds header_timeout{10'000};     // from a request's first byte to the end of its headers
  std::chrono::milliseconds body_timeout{30'000};       // longest silence while a request body is arriving
  std::chrono::milliseconds keepalive_timeout{60'000};  // an idle connection between requests is closed after this
  int max_connections = 10'000;                         // open at once; beyond, a new one gets 503 and is closed
  // Request bodies count in it from their head until their response is written, responses until written; a body
  // that does not fit is refused with 503 before it is read. Null: nothing is counted.
  std::shared_ptr<MemoryBudget> budget;
  std::function<int()> retry_after_s;  // Retry-After of those 503s; empty: 1 s
};

class HttpServer {
 public:
  // Validates `options` (InvalidArgument naming the bad field) and keeps `router`, which must not be null. Installs a
  // JSON 404 handler on `router` when it has none. Does not bind yet.
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options,
                                                    std::shared_ptr<Pistache::Rest::Router> router);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads; returns at once. Unavailable("... port 8090 already in use")
  // or another error instead of throwing; FailedPrecondition if already started. Thread-safe.
  Status Start();

  // The port actually bound (the chosen one when options.port was 0); 0 before Start(). Thread-safe.
  uint16_t port() const { return port_.load(); }

  // Connections open now, and those refused for max_connections since start. Thread-safe.
  std::int64_t open_connections() const;
  std::int64_t refused_connections() const;

  // Stops accepting, closes every connection and joins the I/O threads. Idempotent; not from a route handler.
  // ResponseWriters still held by other threads must not be used afterwards: stop what answers asynchronously first.
  void Shutdown();

 private:
  HttpServer(HttpServerOptions options, std::shared_ptr<Pistache::Rest::Router> router);

  const HttpServerOptions options_;
  const std::shared_ptr<Pistache::Rest::Router> router_;
  std::mutex mu_;                                      // serializes Start and Shutdown
  std::unique_ptr<Pistache::Tcp::Listener> listener_;  // guarded by mu_
  std::atomic<uint16_t> port_{0};
  const std::shared_ptr<ConnectionCounts> connections_;  // shared with the transports
};

// The body of the request `w` answers, moved out of the transport (which reads bodies itself, so Pistache's
// request.body() is always empty): call it once, from the route handler, before the handler returns.
std::string TakeBody(Pistache::Http::ResponseWriter& w);

// Sends a complete response (status `code`, `body`, Content-Type `mime` when valid) and, when the request asked for
// the connection to close, closes it once the response has been written. Thread-safe; send at most once per writer.
void SendResponse(Pistache::Http::ResponseWriter& w, Pistache::Http::Code code, std::string_view body,
                  const Pistache::Http::Mime::MediaType& mime = Pistache::Http::Mime::MediaType());

// A 200 response written in pieces over time (server-sent events) with chunked transfer encoding and
// `Cache-Control: no-cache`, from any thread. Once it ends the connection goes on as after SendResponse: kept
// alive, or closed when the request asked for that. Thread-safe.
class StreamedResponse {
 public:
  // Takes `w` over (nothing else may be sent through it) and sends the head with `content_type`.
  static std::shared_ptr<StreamedResponse> Begin(Pistache::Http::ResponseWriter w, std::string_view content_type);
  ~StreamedResponse();  // End()
  StreamedResponse(const StreamedResponse&) = delete;
  StreamedResponse& operator=(const StreamedResponse&) = delete;

  // Sends `bytes` as one chunk (nothing for an empty view); false once the client is gone or End was called.
  bool Write(std::string_view bytes);
  // Sends the last chunk. Idempotent.
  void End();

 private:
  StreamedResponse(std::weak_ptr<Pistache::Tcp::Peer> peer, bool close) : peer_(std::move(peer)), close_(close) {}

  std::mutex mu_;
  const std::weak_ptr<Pistache::Tcp::Peer> peer_;
  const bool close_;     // the request asked for the connection to close after the response
  bool ended_ = false;   // guarded by mu_
};

}  // namespace tsdsr::dispatcher

// The HTTP server's lifecycle (bind, serve, shut down) and the senders route handlers answer with. The transport
// that frames requests under Pistache's parser is in http_transport.cc.
#include "dispatcher/http/http_server.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <pistache/listener.h>
#include <pistache/peer.h>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_transport.h"

namespace tsdsr::dispatcher {
namespace {

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
using PeerPtr = std::shared_ptr<Tcp::Peer>;

bool AsksToClose(Http::ResponseWriter& w) {
  const auto connection = w.headers().tryGet<Http::Header::Connection>();
  return connection != nullptr && connection->control() == Http::ConnectionControl::Close;
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, std::shared_ptr<Pistache::Rest::Router> router)
    : options_(std::move(options)), router_(std::move(router)), connections_(std::make_shared<ConnectionCounts>()) {}

std::int64_t HttpServer::open_connections() const { return connections_->open.load(); }
std::int64_t HttpServer::refused_connections() const { return connections_->refused.load(); }

std::string TakeBody(Http::ResponseWriter& w) { return TakeRequestBody(w.getPeer()); }

HttpServer::~HttpServer() { Shutdown(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options,
                                                       std::shared_ptr<Pistache::Rest::Router> router) {
  if (router == nullptr) return Status::InvalidArgument("the HTTP server needs a router");
  if (options.host.empty()) return Status::InvalidArgument("http host must not be empty");
  if (options.threads < 1 || options.threads > 64) {
    return Status::InvalidArgument("http threads must be 1 to 64, got " + std::to_string(options.threads));
  }
  if (options.max_request_bytes == 0) return Status::InvalidArgument("max_request_bytes must be positive");
  if (options.header_timeout.count() <= 0) return Status::InvalidArgument("header_timeout must be positive");
  if (options.body_timeout.count() <= 0) return Status::InvalidArgument("body_timeout must be positive");
  if (options.keepalive_timeout.count() <= 0) return Status::InvalidArgument("keepalive_timeout must be positive");
  if (options.max_connections < 1) return Status::InvalidArgument("max_connections must be positive");
  if (!router->hasNotFoundHandler()) {
    router->addNotFoundHandler([](const Pistache::Rest::Request& request, Http::ResponseWriter response) {
      SendError(response, Status::NotFound(std::string("no route for ") + Http::methodString(request.method()) + " " +
                                           request.resource()));
      return Pistache::Rest::Route::Result::Ok;
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(options), std::move(router)));
}

Status HttpServer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (listener_ != nullptr) return Status::FailedPrecondition("the HTTP server is already started");
  auto config = std::make_shared<ServerConfig>();
  config->options = options_;
  config->router = router_;
  config->connections = connections_;
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  try {
    auto listener = std::make_unique<Tcp::Listener>(Pistache::Address(options_.host, Pistache::Port(options_.port)));
    Pistache::Flags<Tcp::Options> flags(Tcp::Options::ReuseAddr);
    flags.setFlag(Tcp::Options::CloseOnExec);  // the supervisor spawns workers: they must not inherit sockets
    listener->init(static_cast<size_t>(options_.threads), flags, "tsdsr-http");
    listener->setTransportFactory([config] { return MakeServerTransport(config); });
    listener->bind();
    listener->runThreaded();
    port_ = static_cast<uint16_t>(listener->getPort());
    listener_ = std::move(listener);
  } catch (const std::exception& e) {
    if (std::strcmp(e.what(), std::strerror(EADDRINUSE)) == 0) {
      return Status::Unavailable("cannot listen on " + where + ": port " + std::to_string(options_.port) +
                                 " already in use");
    }
    return Status::Unavailable("cannot listen on " + where + ": " + e.what());
  }
  return Status::Ok();
}

void HttpServer::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (listener_ == nullptr) return;
  listener_->shutdown();
  listener_.reset();  // joins the accept and I/O threads, then frees the transports and their connections
}

void SendResponse(Http::ResponseWriter& w, Http::Code code, std::string_view body, const Http::Mime::MediaType& mime) {
  const bool close = AsksToClose(w);
  const PeerPtr peer = w.getPeer();
  w.send(code, body.data(), body.size(), mime);  // its promise is not chained here: see the top of this file
  NotifyResponseQueued(peer, close, body.size());
}

std::shared_ptr<StreamedResponse> StreamedResponse::Begin(Http::ResponseWriter w, std::string_view content_type) {
  const bool close = AsksToClose(w);
  const PeerPtr peer = w.getPeer();
  std::shared_ptr<StreamedResponse> stream(new StreamedResponse(peer, close));
  if (peer == nullptr) {
    stream->ended_ = true;
    return stream;
  }
  peer->setIdle(true);  // answered, as far as Pistache's own error handling goes
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) +
                     "\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: " + (close ? "close" : "keep-alive") + "\r\n\r\n";
  const size_t size = head.size();
  peer->send(Pistache::RawBuffer(std::move(head), size));  // writes to a peer are queued in order, from any thread
  return stream;
}

StreamedResponse::~StreamedResponse() { End(); }

bool StreamedResponse::Write(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  const PeerPtr peer = peer_.lock();
  if (ended_ || peer == nullptr) return false;
  if (bytes.empty()) return true;
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
  std::string chunk = size + std::string(bytes) + "\r\n";
  const size_t length = chunk.size();
  peer->send(Pistache::RawBuffer(std::move(chunk), length));
  return true;
}

void StreamedResponse::End() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ended_) return;
  ended_ = true;
  const PeerPtr peer = peer_.lock();
  if (peer == nullptr) return;
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  peer->send(Pistache::RawBuffer(kLastChunk.data(), kLastChunk.size()));
  NotifyResponseQueued(peer, close_, 0);
}

}  // namespace tsdsr::dispatcher

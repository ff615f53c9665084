// Pistache 0.0.5's pitfalls, and how they are beaten. Http::Endpoint is not used: a Tcp::Listener runs our own
// ServerTransport, whose connection handler (Gate) sends every received byte through ServerTransport::OnInput. That
// frames requests itself (head, then Content-Length or chunked body): it answers `Expect: 100-continue`, refuses an
// over-limit Content-Length with a JSON 413 before reading the body, and runs the header/body/keep-alive timeouts.
// It then feeds the bytes to a stock Http::Handler (RequestHandler) through its public Tcp::Handler base, since
// Http::Handler::onInput is private; being another object, it cannot recurse into OnInput. The transport's
// constructor associates that handler with the transport before init() makes the Gate the transport's handler.
// OnRequest replaces the `Connection: Close` Pistache puts on every response to a request without that header.
// SendResponse (any thread) tells the I/O thread a response is queued; that thread queues an empty write behind it
// and, once that completes, counts the request answered and closes if asked. Pistache promises are chained on the
// I/O thread only: chaining from another thread races with their resolution inside Pistache. Closing is
// shutdown(SHUT_WR) (lingering, so the response is not lost to a reset) or SHUT_RDWR to force it; Pistache's own
// disconnection path then frees the peer.
#include "dispatcher/http/http_transport.h"

#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include <pistache/mailbox.h>
#include <pistache/peer.h>
#include <pistache/transport.h>
#include <spdlog/spdlog.h>

#include "dispatcher/http/chunked_body.h"
#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_request_head.h"
#include "dispatcher/http/transport_events.h"

namespace tsdsr::dispatcher {
namespace {

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
using Clock = std::chrono::steady_clock;
using PeerPtr = std::shared_ptr<Tcp::Peer>;

constexpr size_t kMaxHeadBytes = size_t{64} << 10;        // request line and headers
constexpr size_t kMaxDiscardBytes = size_t{8} << 20;      // unwanted bytes read on a closing connection
constexpr auto kTick = std::chrono::milliseconds(100);    // timeout resolution
constexpr auto kLingerTimeout = std::chrono::seconds(10);  // a closing connection waits this long for the client
constexpr char kConnectionKey[] = "tsdsr.http.connection";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string Mebibytes(size_t bytes) {
  if (bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string TimeoutMessage(const char* what, std::chrono::milliseconds timeout) {
  return std::string(what) + " " + std::to_string(timeout.count()) + " ms";
}

class ServerTransport;

enum class Phase { kHead, kBody, kDiscard };

// Per-connection state, stored in the Pistache peer. Used only on the connection's I/O thread, except `transport`,
// which is set before any request and only read afterwards.
struct Connection {
  std::weak_ptr<ServerTransport> transport;
  Phase phase = Phase::kHead;
  std::string head;         // the current request's head, from its first byte until it is dispatched
  RequestHead request;      // the head of the request being received or served
  uint64_t body_left = 0;   // Content-Length bytes still to come
  std::string body;         // the current request's body as received (de-chunked); the route takes it
  ChunkedBody chunked;      // the decoder of a chunked body
  MemoryBudget::Lease lease;                 // the body being received, in the memory budget
  std::deque<MemoryBudget::Lease> answering;  // the bodies of dispatched requests, until their response is written
  size_t dispatched = 0;    // requests handed to the router
  size_t answered = 0;      // responses sent through SendResponse and fully written
  bool closing = false;     // the write side is shut down; waiting for the client to close
  bool counted = false;     // in ConnectionCounts::open
  size_t discarded = 0;     // bytes dropped in kDiscard
  uint64_t discard_limit = kMaxDiscardBytes;  // dropped bytes read before the connection is reset
  Clock::time_point since;  // start of the idle period, of the head, of the close; or the last body read
};

std::shared_ptr<Connection> StateOf(const PeerPtr& peer) {
  return std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionKey));
}

// Pistache's HTTP parser (inherited), fed by ServerTransport; complete requests go back to it for routing.
class RequestHandler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestHandler)
  RequestHandler(ServerTransport* owner, std::shared_ptr<Pistache::Rest::Router> router)
      : owner_(owner), router_(std::move(router)) {}
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override;
  void onDisconnection(const PeerPtr& peer) override { router_->disconnectPeer(peer); }

 private:
  ServerTransport* owner_;
  std::shared_ptr<Pistache::Rest::Router> router_;
};

class ServerTransport final : public Tcp::Transport, public std::enable_shared_from_this<ServerTransport> {
 public:
  explicit ServerTransport(const std::shared_ptr<const ServerConfig>& config)
      : ServerTransport(config, std::make_shared<RequestHandler>(this, config->router)) {}
  ~ServerTransport() override;

  std::shared_ptr<Pistache::Aio::Handler> clone() const override { return std::make_shared<ServerTransport>(config_); }
  void registerPoller(Pistache::Polling::Epoll& poller) override;
  void onReady(const Pistache::Aio::FdSet& fds) override;

  // Called on this transport's I/O thread.
  void OnConnection(const PeerPtr& peer);
  void OnInput(std::string_view input, const PeerPtr& peer);
  void OnDisconnection(const PeerPtr& peer);
  void OnRequest(const Http::Request& request, Http::ResponseWriter response);
  // Any thread: a response of `bytes` to `peer` has been queued; they count in the memory budget until written.
  // Once written, the request counts as answered and, if `close`, the connection is closed (lingering).
  void ResponseQueued(std::weak_ptr<Tcp::Peer> peer, bool close, size_t bytes) {
    MemoryBudget::Lease held;  // twice: the answer being sent and Pistache's copy of it, until written
    if (config_->options.budget) held = config_->options.budget->Force(2 * static_cast<std::int64_t>(bytes));
    sent_queue_.push(Sent{std::move(peer), close, std::move(held)});
  }

 private:
  enum class Fed { kDispatched, kPending, kRejected };
  struct Sent {
    std::weak_ptr<Tcp::Peer> peer;
    bool close = false;
    MemoryBudget::Lease held;  // the response's bytes, given back once written
  };

  ServerTransport(std::shared_ptr<const ServerConfig> config, std::shared_ptr<RequestHandler> http);
  bool ReadHead(const PeerPtr& peer, Connection& c, std::string_view& input);
  // Refuses a body over the size limit or the memory budget (which then counts it); false when refused.
  bool AdmitBody(const PeerPtr& peer, Connection& c);
  bool ReadBody(const PeerPtr& peer, Connection& c, std::string_view& input);
  bool ReadChunked(const PeerPtr& peer, Connection& c, std::string_view& input);
  // Hands the complete request (its head without body framing) to Pistache; the route takes the body.
  bool Dispatch(const PeerPtr& peer, Connection& c);
  Fed Feed(const PeerPtr& peer, Connection& c, std::string_view bytes);
  // Answers `status` as JSON with `Connection: close` (and Retry-After when `retry_after_s` > 0).
  void Refuse(const PeerPtr& peer, Connection& c, Http::Code code, const Status& status, int retry_after_s = 0);
  // Refuses a request whose body does not fit in the memory budget.
  void RefuseForMemory(const PeerPtr& peer, Connection& c);
  void Finish(Connection& c);
  void AfterWrites(const PeerPtr& peer, bool close, MemoryBudget::Lease held = {});
  void OnWritten(const PeerPtr& peer, bool close);
  void BeginClose(const PeerPtr& peer);
  bool Owns(const PeerPtr& peer) const {
    auto it = peers.find(peer->fd());
    return it != peers.end() && it->second == peer;  // not a peer whose fd was closed and reused
  }
  // Ends the connection now; Pistache then sees end of input and frees the peer. With `reset`, its close sends a
  // reset, so a client still pushing a body into a closed window fails at once instead of waiting on TCP probes.
  void ForceClose(const PeerPtr& peer, bool reset, const char* why) {
    spdlog::debug("HTTP connection from {} closed{}: {}", ClientAddress(peer->fd()), reset ? " with a reset" : "", why);
    if (reset) {
      const linger abortive{1, 0};
      ::setsockopt(peer->fd(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    ::shutdown(peer->fd(), SHUT_RDWR);
  }
  void OnTick();

  const std::shared_ptr<const ServerConfig> config_;
  const std::shared_ptr<RequestHandler> http_;
  const std::shared_ptr<Tcp::Handler> gate_;
  Pistache::PollableQueue<Sent> sent_queue_;
  int timer_fd_ = -1;
};

// The Tcp::Handler Pistache's transport calls for connection events; everything goes to ServerTransport.
class Gate final : public Tcp::Handler {
 public:
  explicit Gate(ServerTransport* owner) : owner_(owner) {}
  std::shared_ptr<Tcp::Handler> clone() const override { return std::make_shared<Gate>(owner_); }
  void onInput(const char* data, size_t size, const PeerPtr& peer) override { owner_->OnInput({data, size}, peer); }
  void onConnection(const PeerPtr& peer) override { owner_->OnConnection(peer); }
  void onDisconnection(const PeerPtr& peer) override { owner_->OnDisconnection(peer); }

 private:
  ServerTransport* owner_;
};

void RequestHandler::onRequest(const Http::Request& request, Http::ResponseWriter response) {
  owner_->OnRequest(request, std::move(response));
}

ServerTransport::ServerTransport(std::shared_ptr<const ServerConfig> config, std::shared_ptr<RequestHandler> http)
    : Tcp::Transport(http), config_(std::move(config)), http_(std::move(http)), gate_(std::make_shared<Gate>(this)) {
  // Headers count against Pistache's buffer too; our own limits on both trip first.
  http_->setMaxRequestSize(config_->options.max_request_bytes + kMaxHeadBytes);
  init(gate_);  // http_ stays associated with this transport; the gate now receives the connection events
}

ServerTransport::~ServerTransport() {
  if (timer_fd_ >= 0) ::close(timer_fd_);
  for (const auto& entry : peers) ::close(entry.first);  // Pistache leaves them open when its reactor stops
}

void ServerTransport::registerPoller(Pistache::Polling::Epoll& poller) {
  Tcp::Transport::registerPoller(poller);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  itimerspec spec{};
  spec.it_interval.tv_nsec = std::chrono::duration_cast<std::chrono::nanoseconds>(kTick).count();
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(timer_fd_, 0, &spec, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "timerfd_settime");
  }
  poller.addFd(timer_fd_, Pistache::Flags<Pistache::Polling::NotifyOn>(Pistache::Polling::NotifyOn::Read),
               Pistache::Polling::Tag(timer_fd_));
  sent_queue_.bind(poller);
}

void ServerTransport::onReady(const Pistache::Aio::FdSet& fds) {
  // input and writes first, then our timer and queue
  HandOverEvents(fds, [this](const Pistache::Aio::FdSet& event) { Tcp::Transport::onReady(event); });
  for (const auto& entry : fds) {
    if (entry.getTag() == Pistache::Polling::Tag(timer_fd_)) {
      uint64_t expirations = 0;
      if (::read(timer_fd_, &expirations, sizeof expirations) > 0) OnTick();
    } else if (entry.getTag() == sent_queue_.tag()) {
      while (auto sent = sent_queue_.popSafe()) {
        if (auto peer = sent->peer.lock(); peer != nullptr && Owns(peer))
          AfterWrites(peer, sent->close, std::move(sent->held));
      }
    }
  }
}

void ServerTransport::OnConnection(const PeerPtr& peer) {
  static_cast<Tcp::Handler&>(*http_).onConnection(peer);  // creates Pistache's parser for the peer
  auto connection = std::make_shared<Connection>();
  connection->transport = weak_from_this();
  connection->since = Clock::now();
  connection->counted = true;
  peer->putData(kConnectionKey, connection);
  ConnectionCounts& counts = *config_->connections;
  const std::int64_t open = counts.open.fetch_add(1) + 1;
  if (open > config_->options.max_connections) {
    counts.refused.fetch_add(1);
    Refuse(peer, *connection, Http::Code::Service_Unavailable,
           Status::Unavailable("too many open connections (" + std::to_string(open - 1) + "); retry later"), 1);
  }
}

void ServerTransport::OnDisconnection(const PeerPtr& peer) {
  if (const std::shared_ptr<Connection> c = StateOf(peer); c != nullptr) {
    spdlog::debug("HTTP connection from {} ended ({} of {} requests answered{})", ClientAddress(peer->fd()), c->answered,
                  c->dispatched, c->closing ? ", closing" : "");
    if (c->counted) {
      c->counted = false;
      config_->connections->open.fetch_sub(1);
    }
  }
  static_cast<Tcp::Handler&>(*http_).onDisconnection(peer);
}

void ServerTransport::OnInput(std::string_view input, const PeerPtr& peer) {
  const std::shared_ptr<Connection> connection = StateOf(peer);
  if (connection == nullptr) return;
  Connection& c = *connection;
  while (!input.empty()) {
    if (c.phase == Phase::kDiscard) {
      c.discarded += input.size();
      c.since = Clock::now();  // a refused body still arriving: the linger waits for it, up to discard_limit
      if (c.closing && c.discarded > c.discard_limit) ForceClose(peer, /*reset=*/true, "refused bytes over the limit");
      return;
    }
    if (!(c.phase == Phase::kHead ? ReadHead(peer, c, input) : ReadBody(peer, c, input))) return;
  }
}

// Accumulates a request head; once complete, vets it, answers 100-continue and hands it to Pistache.
// Returns false when the connection takes no more input for now.
bool ServerTransport::ReadHead(const PeerPtr& peer, Connection& c, std::string_view& input) {
  if (c.head.empty()) {
    while (!input.empty() && (input.front() == '\r' || input.front() == '\n')) input.remove_prefix(1);
    if (input.empty()) return false;
    c.since = Clock::now();
  }
  const size_t old_size = c.head.size();
  c.head.append(input);
  const size_t end = FindRequestHeadEnd(c.head, old_size >= 3 ? old_size - 3 : 0);
  if (end == std::string::npos ? c.head.size() > kMaxHeadBytes : end > kMaxHeadBytes) {
    Refuse(peer, c, Http::Code::Request_Header_Fields_Too_Large, Status::TooLarge("request headers exceed 64 KiB"));
    return false;
  }
  if (end == std::string::npos) return false;
  input.remove_prefix(end - old_size);
  c.head.resize(end);
  auto head = ParseRequestHead(c.head);
  if (!head.ok()) {
    Refuse(peer, c, Http::Code::Bad_Request, head.status());
    return false;
  }
  c.request = *head;
  if (!AdmitBody(peer, c)) return false;
  const bool has_body = c.request.content_length > 0 || c.request.chunked;
  if (!has_body) return Dispatch(peer, c);
  if (c.request.expect_continue && input.empty()) {
    peer->send(Pistache::RawBuffer(kContinue.data(), kContinue.size()));
  }
  c.body_left = c.request.content_length;
  c.body.clear();
  c.body.reserve(static_cast<size_t>(c.body_left));  // one allocation, of the size the budget counted
  c.chunked = ChunkedBody();
  c.phase = Phase::kBody;
  c.since = Clock::now();
  return true;
}

bool ServerTransport::AdmitBody(const PeerPtr& peer, Connection& c) {
  const size_t limit = config_->options.max_request_bytes;
  if (c.request.content_length > limit) {
    Refuse(peer, c, Http::Code::Request_Entity_Too_Large,
           Status::TooLarge("request body of " + std::to_string(c.request.content_length) + " bytes exceeds the " +
                            Mebibytes(limit) + " limit"));
    return false;
  }
  if (const auto& budget = config_->options.budget) {
    auto lease = budget->TryReserve(static_cast<std::int64_t>(c.request.content_length));
    if (!lease) {
      RefuseForMemory(peer, c);
      return false;
    }
    c.lease = std::move(*lease);
  }
  return true;
}

// Keeps body bytes: at most the Content-Length (the rest is the next request), or a chunked body up to its end.
bool ServerTransport::ReadBody(const PeerPtr& peer, Connection& c, std::string_view& input) {
  c.since = Clock::now();
  if (c.request.chunked) return ReadChunked(peer, c, input);
  const size_t take = static_cast<size_t>(std::min<uint64_t>(input.size(), c.body_left));
  c.body.append(input.substr(0, take));
  c.body_left -= take;
  input.remove_prefix(take);
  return c.body_left > 0 || Dispatch(peer, c);
}

bool ServerTransport::ReadChunked(const PeerPtr& peer, Connection& c, std::string_view& input) {
  const size_t before = c.body.size();
  auto used = c.chunked.Feed(input, &c.body);
  if (!used.ok()) {
    Refuse(peer, c, Http::Code::Bad_Request, used.status());
    return false;
  }
  input.remove_prefix(*used);
  const size_t limit = config_->options.max_request_bytes;
  if (c.body.size() > limit) {
    Refuse(peer, c, Http::Code::Request_Entity_Too_Large,
           Status::TooLarge("chunked request body exceeds the " + Mebibytes(limit) + " limit"));
    return false;
  }
  if (config_->options.budget && !c.lease.TryGrow(static_cast<std::int64_t>(c.body.size() - before))) {
    RefuseForMemory(peer, c);
    return false;
  }
  return !c.chunked.done() || Dispatch(peer, c);
}

bool ServerTransport::Dispatch(const PeerPtr& peer, Connection& c) {
  c.answering.push_back(std::move(c.lease));
  const Fed fed = Feed(peer, c, WithoutBodyFraming(c.head));
  c.head.clear();
  std::string().swap(c.body);  // what the route did not take
  c.chunked = ChunkedBody();
  if (fed != Fed::kDispatched) {
    c.answering.pop_back();
    c.phase = Phase::kDiscard;
    AfterWrites(peer, /*close=*/true);
    return false;
  }
  Finish(c);
  return true;
}

ServerTransport::Fed ServerTransport::Feed(const PeerPtr& peer, Connection& c, std::string_view bytes) {
  const size_t before = c.dispatched;
  static_cast<Tcp::Handler&>(*http_).onInput(bytes.data(), bytes.size(), peer);  // Http::Handler::onInput
  if (c.dispatched != before) return Fed::kDispatched;
  // Pistache answers what it cannot parse itself (and resets its parser): then the connection must end.
  const auto parser = Http::Handler::getParser(peer);
  return parser->step()->id() == Http::Private::BodyStep::Id ? Fed::kPending : Fed::kRejected;
}

void ServerTransport::Finish(Connection& c) {
  c.phase = c.request.keep_alive ? Phase::kHead : Phase::kDiscard;  // nothing more is read after a last request
  c.since = Clock::now();
}

// Answers `status` as JSON with `Connection: close`; SendResponse closes the connection once it is written.
void ServerTransport::Refuse(const PeerPtr& peer, Connection& c, Http::Code code, const Status& status,
                             int retry_after_s) {
  spdlog::debug("HTTP connection from {} refused with {}: {}", ClientAddress(peer->fd()), static_cast<int>(code),
                status.message());
  c.phase = Phase::kDiscard;
  c.since = Clock::now();
  // The refused request's body is read and dropped (up to the body limit), so that a client that sends it without
  // waiting for 100 Continue still reads the answer instead of a reset.
  c.discard_limit = std::max<uint64_t>(kMaxDiscardBytes, std::min<uint64_t>(c.request.content_length,
                                                                            config_->options.max_request_bytes));
  std::string().swap(c.head);
  std::string().swap(c.body);
  c.lease.Release();
  Http::ResponseWriter response(Http::Version::Http11, this, http_.get(), peer);
  response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
  if (retry_after_s > 0) AddHeader(response, "Retry-After", std::to_string(retry_after_s));
  SendJson(response, code, ErrorBody(status));
}

void ServerTransport::RefuseForMemory(const PeerPtr& peer, Connection& c) {
  const MemoryBudget& budget = *config_->options.budget;
  const std::string held = Mebibytes(static_cast<size_t>(budget.used()));
  const int retry_after_s = config_->options.retry_after_s ? config_->options.retry_after_s() : 1;
  Refuse(peer, c, Http::Code::Service_Unavailable,
         Status::Unavailable("the dispatcher holds " + held + " of its " +
                             Mebibytes(static_cast<size_t>(budget.limit())) +
                             " memory budget for requests; retry later"),
         std::max(1, retry_after_s));
}

// Runs OnWritten once everything queued for `peer` so far is written: writes to a peer go out in order, so an empty
// write queued now completes right after them. I/O thread only: the promise must not be chained elsewhere.
void ServerTransport::AfterWrites(const PeerPtr& peer, bool close, MemoryBudget::Lease held) {
  std::weak_ptr<Tcp::Peer> weak = peer;
  auto lease = std::make_shared<MemoryBudget::Lease>(std::move(held));  // freed with the callbacks either way
  peer->send(Pistache::RawBuffer())
      .then(
          [this, weak, close, lease](ssize_t) {  // runs on this transport's thread, which the transport outlives
            lease->Release();
            if (auto written = weak.lock(); written != nullptr && Owns(written)) OnWritten(written, close);
          },
          [lease](std::exception_ptr) { lease->Release(); });  // the peer went away
}

void ServerTransport::OnWritten(const PeerPtr& peer, bool close) {
  const std::shared_ptr<Connection> connection = StateOf(peer);
  if (connection == nullptr) return;
  Connection& c = *connection;
  if (c.answered < c.dispatched) {
    ++c.answered;
    if (!c.answering.empty()) c.answering.pop_front();  // its body is gone with the answer
  }
  if (c.head.empty() && c.phase != Phase::kBody) c.since = Clock::now();  // idle from now on
  if (close) BeginClose(peer);
}

void ServerTransport::BeginClose(const PeerPtr& peer) {
  const std::shared_ptr<Connection> connection = StateOf(peer);
  if (connection == nullptr || connection->closing) return;
  connection->closing = true;
  connection->phase = Phase::kDiscard;
  connection->since = Clock::now();
  ::shutdown(peer->fd(), SHUT_WR);  // FIN after the response; the client's close then frees the peer
}

void ServerTransport::OnTick() {
  const auto now = Clock::now();
  const HttpServerOptions& options = config_->options;
  for (const auto& entry : peers) {
    const PeerPtr& peer = entry.second;
    const std::shared_ptr<Connection> connection = StateOf(peer);
    if (connection == nullptr) continue;
    Connection& c = *connection;
    const auto elapsed = now - c.since;
    if (c.closing) {
      // A refused body still to come may pause like any body; otherwise the client has had its answer.
      const bool body_to_come = c.discarded < c.discard_limit && c.discard_limit > kMaxDiscardBytes;
      if (elapsed > (body_to_come ? std::chrono::duration_cast<Clock::duration>(options.body_timeout)
                                  : std::chrono::duration_cast<Clock::duration>(kLingerTimeout))) {
        ForceClose(peer, /*reset=*/true, body_to_come ? "the refused body stalled" : "the client did not close");
      }
    } else if (c.answered < c.dispatched) {
      continue;  // a job may take long (its deadline is the dispatcher's business), or its answer is being written
    } else if (c.phase == Phase::kHead && !c.head.empty() && elapsed > options.header_timeout) {
      Refuse(peer, c, Http::Code::Request_Timeout,
             Status::DeadlineExceeded(TimeoutMessage("request headers not received within", options.header_timeout)));
    } else if (c.phase == Phase::kBody && elapsed > options.body_timeout) {
      Refuse(peer, c, Http::Code::Request_Timeout,
             Status::DeadlineExceeded(TimeoutMessage("request body stalled for more than", options.body_timeout)));
    } else if (c.phase != Phase::kBody && c.head.empty() && elapsed > options.keepalive_timeout) {
      ForceClose(peer, /*reset=*/false, "idle");  // idle keep-alive connection, or a close nothing completed
    }
  }
}

void ServerTransport::OnRequest(const Http::Request& request, Http::ResponseWriter response) {
  const PeerPtr peer = response.getPeer();
  const std::shared_ptr<Connection> connection = peer ? StateOf(peer) : nullptr;
  if (connection == nullptr) return;  // the peer is gone: nobody to answer
  Connection& c = *connection;
  ++c.dispatched;
  // Pistache answers `Connection: Close` whenever the request had no Connection header; say what will happen.
  response.headers().remove<Http::Header::Connection>();
  if (!c.request.keep_alive) {
    response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
  } else if (!c.request.http11) {
    response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
  }
  Http::ResponseWriter fallback = response.clone();
  try {
    config_->router->route(request, std::move(response));
  } catch (const Http::HttpError& e) {
    if (!peer->isIdle()) {
      SendJson(fallback, static_cast<Http::Code>(e.code()), ErrorBody(Status(StatusCodeForHttp(e.code()), e.reason())));
    }
  } catch (const std::exception& e) {
    if (!peer->isIdle()) SendError(fallback, Status::Internal(std::string("request handler failed: ") + e.what()));
  }
}

}  // namespace

std::shared_ptr<Tcp::Transport> MakeServerTransport(std::shared_ptr<const ServerConfig> config) {
  return std::make_shared<ServerTransport>(config);
}

void NotifyResponseQueued(const PeerPtr& peer, bool close, size_t bytes) {
  if (peer == nullptr) return;
  const std::shared_ptr<Connection> state = StateOf(peer);
  if (state == nullptr) return;  // not a connection of HttpServer
  if (auto transport = state->transport.lock()) transport->ResponseQueued(peer, close, bytes);
}

std::string TakeRequestBody(const PeerPtr& peer) {
  const std::shared_ptr<Connection> state = peer ? StateOf(peer) : nullptr;
  return state ? std::move(state->body) : std::string();
}

}  // namespace tsdsr::dispatcher

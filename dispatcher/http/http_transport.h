// The transport under HttpServer's listener (http_transport.cc): it frames requests itself, answers
// `Expect: 100-continue`, refuses over-limit bodies, runs the header/body/keep-alive timeouts and closes connections
// that asked for it once their response is written. Internal to dispatcher/http.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <pistache/router.h>
#include <pistache/tcp.h>

#include "dispatcher/http/http_server.h"

namespace Pistache::Tcp {
class Peer;
class Transport;
}  // namespace Pistache::Tcp

namespace tsdsr::dispatcher {

// Connections of every I/O thread of one server.
struct ConnectionCounts {
  std::atomic<std::int64_t> open{0};
  std::atomic<std::int64_t> refused{0};  // over max_connections, since start
};

struct ServerConfig {
  HttpServerOptions options;
  std::shared_ptr<Pistache::Rest::Router> router;
  std::shared_ptr<ConnectionCounts> connections = std::make_shared<ConnectionCounts>();
};

// A transport for one I/O thread of the listener; every connection it accepts is served under `config`.
std::shared_ptr<Pistache::Tcp::Transport> MakeServerTransport(std::shared_ptr<const ServerConfig> config);

// Any thread: a whole response of `bytes` to `peer` has been queued (they count in the memory budget until
// written). Once it is written the request counts as answered (its keep-alive idle time starts) and, when `close`,
// the connection is closed (lingering). A peer that is not a connection of this transport is ignored.
void NotifyResponseQueued(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool close, size_t bytes);

// The body of the request being routed on `peer`, moved out (empty when it had none, or when taken already). Call
// it from the route handler itself, on the I/O thread that routes the request.
std::string TakeRequestBody(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

}  // namespace tsdsr::dispatcher

// The transport under HttpServer's listener (http_transport.cc): it frames requests itself, answers
// `Expect: 100-continue`, refuses over-limit bodies, runs the header/body/keep-alive timeouts and closes connections
// that asked for it once their response is written. Internal to dispatcher/http.
#pragma once

#include <memory>

#include <pistache/router.h>
#include <pistache/tcp.h>

#include "dispatcher/http/http_server.h"

namespace Pistache::Tcp {
class Peer;
class Transport;
}  // namespace Pistache::Tcp

namespace tsdsr::dispatcher {

struct ServerConfig {
  HttpServerOptions options;
  std::shared_ptr<Pistache::Rest::Router> router;
};

// A transport for one I/O thread of the listener; every connection it accepts is served under `config`.
std::shared_ptr<Pistache::Tcp::Transport> MakeServerTransport(std::shared_ptr<const ServerConfig> config);

// Any thread: a whole response to `peer` has been queued. Once it is written the request counts as answered (its
// keep-alive idle time starts) and, when `close`, the connection is closed (lingering). A peer that is not a
// connection of this transport is ignored.
void NotifyResponseQueued(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool close);

}  // namespace tsdsr::dispatcher

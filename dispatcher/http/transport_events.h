// Below HTTP, for the front door's transport: the reactor's events handed to Pistache so that none is lost, and a
// connection's client address for the log.
#pragma once

#include <functional>
#include <string>

#include <pistache/reactor.h>

namespace tsdsr::dispatcher {

// Pistache 0.0.5's Tcp::Transport::onReady takes an event that is both readable and writable as readable only,
// and writes a queued response only on an (edge-triggered) writable event: a response queued while its client is
// still sending, such as the 503 of a body refused before it was read, could then wait forever. Calls `handle`
// with one event at a time, each such event as two, the input first, then the write. A write Pistache no longer
// holds after the input ended the connection (its "could not find write data") is nothing to do.
void HandOverEvents(const Pistache::Aio::FdSet& events, const std::function<void(const Pistache::Aio::FdSet&)>& handle);

// "address:port" of the client connected on socket `fd`; "?" once the socket is gone.
std::string ClientAddress(int fd);

}  // namespace tsdsr::dispatcher

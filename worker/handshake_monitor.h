// Watches the worker's DEALER socket for failed ZeroMQ handshakes with the dispatcher (CURVE key refused, one
// side without CURVE) and logs each kind once, with what to check, until a handshake succeeds again: without
// it a refused worker would only see silence. Lives in the thread that owns the socket.
#pragma once

#include <memory>
#include <string>

#include <zmq.hpp>

namespace tsdsr::worker {

class HandshakeMonitor {
 public:
  // Monitors `socket` through the inproc endpoint `name` (unique in the context). `curve` says whether the
  // worker uses CURVE, for the advice. Monitoring problems are logged and disable the monitor, never thrown.
  // Destroy it before `socket`.
  HandshakeMonitor(zmq::socket_t& socket, const std::string& name, bool curve);
  ~HandshakeMonitor();
  HandshakeMonitor(const HandshakeMonitor&) = delete;
  HandshakeMonitor& operator=(const HandshakeMonitor&) = delete;

  // Handles the events that arrived so far; never blocks.
  void Poll();

 private:
  class Events;
  std::unique_ptr<Events> events_;  // null when monitoring could not start
};

}  // namespace tsdsr::worker

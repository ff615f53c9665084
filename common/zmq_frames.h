// Multipart send/receive of protocol frames over cppzmq, with ZeroMQ errors turned into Status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "common/protocol.h"
#include "common/status.h"

namespace tsdsr {

// Sends `frames` as one multipart message without blocking. Unavailable when the peer is gone
// (EHOSTUNREACH under ZMQ_ROUTER_MANDATORY) or the pipe is full (EAGAIN); Internal for other errors.
Status SendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames);

// Receives one whole multipart message without blocking; Unavailable when none is waiting.
Result<std::vector<std::string>> ReceiveFrames(zmq::socket_t& socket);

// Sends a protocol message, prefixed by `identity` when non-empty (ROUTER side).
Status SendMessage(zmq::socket_t& socket, const std::string& identity, const proto::Message& message);
// The same from its parts, the payload sent from where it lies (a 20 MB image is copied once, into ZeroMQ).
Status SendMessage(zmq::socket_t& socket, const std::string& identity, proto::Command command,
                   const nlohmann::json& header, const std::vector<std::string_view>& payload);

// Sets the options every socket of ours has: linger (ms) so close never hangs, and for ROUTER sockets
// ZMQ_ROUTER_MANDATORY so sending to a vanished peer is an error instead of a silent drop.
void ConfigureSocket(zmq::socket_t& socket, int linger_ms, bool router);

}  // namespace tsdsr

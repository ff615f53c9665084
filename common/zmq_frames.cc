#include "common/zmq_frames.h"

#include <cerrno>

namespace tsdsr {
namespace {

// Sends buffers as one multipart message; ZeroMQ copies each into its own message, so callers keep ownership.
Status SendBuffers(zmq::socket_t& socket, const std::vector<zmq::const_buffer>& frames) {
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      zmq::send_flags flags = zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      if (!socket.send(frames[i], flags)) {
        // EAGAIN on the first frame sends nothing; ZeroMQ sends multipart messages atomically.
        return Status::Unavailable("peer is not accepting messages (send would block)");
      }
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return Status::Unavailable("peer is gone (host unreachable)");
    return Status::Internal(std::string("zmq send: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace

Status SendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  std::vector<zmq::const_buffer> buffers;
  buffers.reserve(frames.size());
  for (const auto& f : frames) buffers.push_back(zmq::buffer(f));
  return SendBuffers(socket, buffers);
}

Result<std::vector<std::string>> ReceiveFrames(zmq::socket_t& socket) {
  std::vector<std::string> frames;
  try {
    zmq::message_t part;
    do {
      if (!socket.recv(part, zmq::recv_flags::dontwait)) {
        if (frames.empty()) return Status::Unavailable("no message waiting");
        continue;  // Later parts of a multipart message are always already there; retry is defensive.
      }
      frames.emplace_back(static_cast<const char*>(part.data()), part.size());
    } while (part.more());
  } catch (const zmq::error_t& e) {
    return Status::Internal(std::string("zmq recv: ") + e.what());
  }
  return frames;
}

Status SendMessage(zmq::socket_t& socket, const std::string& identity, proto::Command command,
                   const nlohmann::json& header, const std::vector<std::string_view>& payload) {
  const char command_byte = static_cast<char>(command);
  const std::string header_text = header.dump();
  std::vector<zmq::const_buffer> buffers;
  if (!identity.empty()) buffers.push_back(zmq::buffer(identity));
  buffers.push_back(zmq::buffer(proto::kTag.data(), proto::kTag.size()));
  buffers.push_back(zmq::buffer(&command_byte, 1));
  buffers.push_back(zmq::buffer(header_text));
  for (const auto& p : payload) buffers.push_back(zmq::buffer(p.data(), p.size()));
  return SendBuffers(socket, buffers);
}

Status SendMessage(zmq::socket_t& socket, const std::string& identity, const proto::Message& message) {
  return SendMessage(socket, identity, message.command, message.header,
                     std::vector<std::string_view>(message.payload.begin(), message.payload.end()));
}

void ConfigureSocket(zmq::socket_t& socket, int linger_ms, bool router) {
  socket.set(zmq::sockopt::linger, linger_ms);
  if (router) socket.set(zmq::sockopt::router_mandatory, 1);
}

}  // namespace tsdsr

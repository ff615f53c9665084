#include "worker/handshake_monitor.h"

#include <spdlog/spdlog.h>

namespace tsdsr::worker {
namespace {

constexpr int kEvents =
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
constexpr int kMaxEventsPerPoll = 100;

}  // namespace

// cppzmq's monitor: a PAIR socket fed by libzmq with the monitored socket's events.
class HandshakeMonitor::Events : public zmq::monitor_t {
 public:
  explicit Events(bool curve) : curve_(curve) {}

  void on_event_handshake_succeeded(const zmq_event_t&, const char*) override { reported_ = 0; }

  void on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) override {
    Report(kAuth, fmt::format("the dispatcher at {} refused this worker (ZAP status {}): its public key is not "
                              "authorized; add this worker's worker.pub to the dispatcher's "
                              "--curve-dir/authorized_workers/ and restart the dispatcher",
                              address, event.value));
  }

  void on_event_handshake_failed_protocol(const zmq_event_t& event, const char* address) override {
    std::string advice = event.value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                             ? (curve_ ? "the dispatcher does not use CURVE, but this worker has --curve-dir"
                                       : "the dispatcher requires CURVE keys: start this worker with --curve-dir")
                             : "check that --curve-dir holds the dispatcher's current dispatcher.pub";
    Report(kProtocol, fmt::format("handshake with the dispatcher at {} failed (ZeroMQ protocol error {:#x}): {}",
                                  address, event.value, advice));
  }

 private:
  enum Kind { kAuth = 1, kProtocol = 2 };

  void Report(Kind kind, const std::string& message) {
    if (reported_ & kind) return;  // once until a handshake succeeds; the socket retries on its own
    reported_ |= kind;
    spdlog::error("{}", message);
  }

  bool curve_;
  int reported_ = 0;  // Kind bits already logged
};

HandshakeMonitor::HandshakeMonitor(zmq::socket_t& socket, const std::string& name, bool curve) {
  auto events = std::make_unique<Events>(curve);
  try {
    events->init(socket, name, kEvents);
    events_ = std::move(events);
  } catch (const zmq::error_t& e) {
    spdlog::warn("cannot watch the dispatcher handshake: {}", e.what());
  }
}

HandshakeMonitor::~HandshakeMonitor() = default;

void HandshakeMonitor::Poll() {
  if (!events_) return;
  try {
    for (int i = 0; i < kMaxEventsPerPoll && events_->check_event(0); ++i) {
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("stopped watching the dispatcher handshake: {}", e.what());
    events_.reset();
  }
}

}  // namespace tsdsr::worker

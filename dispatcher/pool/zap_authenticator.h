// The ZeroMQ authentication (ZAP, RFC 27) handler of the dispatcher's worker endpoint: a REP socket on
// inproc://zeromq.zap.01, owned by its own thread, that admits a CURVE peer only when its public key is in
// the authorized set. Refused peers are logged with their key and address (at most once a minute per key).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"
#include "common/wakeup.h"

namespace tsdsr::dispatcher {

class ZapAuthenticator {
 public:
  // Binds the ZAP endpoint of `context` and starts answering: CURVE peers whose Z85 public key is a key of
  // `authorized` (valued by a name for the logs) get 200, every other peer 400. Start it before a CURVE
  // server socket of `context` binds, and stop it after that socket is closed; `context` must outlive it.
  // Unavailable when the endpoint cannot be bound (another handler already serves this context).
  static Result<std::unique_ptr<ZapAuthenticator>> Start(zmq::context_t& context,
                                                         std::map<std::string, std::string> authorized);
  ~ZapAuthenticator();  // Stop()
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  // Stops answering, closes the socket and joins the thread. Only after the CURVE sockets it guards are
  // closed: libzmq admits every CURVE peer of a context without a ZAP handler. Idempotent; owner thread only.
  void Stop();

  // Handshakes admitted and refused so far. Thread-safe.
  std::int64_t accepted() const { return accepted_.load(); }
  std::int64_t refused() const { return refused_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  ZapAuthenticator(zmq::context_t& context, std::map<std::string, std::string> authorized);
  void Run();
  // The reply frames to one request (RFC 27: version, request id, status code and text, user id, metadata).
  std::vector<std::string> Answer(const std::vector<std::string>& request);
  void LogRefusal(const std::string& key, const std::string& address, const std::string& why);

  const std::map<std::string, std::string> authorized_;   // Z85 key → name
  zmq::socket_t socket_;                                  // used only by the thread once it runs
  std::map<std::string, Clock::time_point> last_logged_;  // refused key → when last logged; thread only
  std::map<std::string, int> unlogged_;                   // refusals since that log line; thread only
  std::atomic<std::int64_t> accepted_{0};
  std::atomic<std::int64_t> refused_{0};
  std::atomic<bool> stopping_{false};
  Wakeup wakeup_;
  std::thread thread_;
};

}  // namespace tsdsr::dispatcher

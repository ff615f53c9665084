#include "dispatcher/pool/zap_authenticator.h"

#include <spdlog/spdlog.h>

#include "common/curve_keys.h"
#include "common/zmq_frames.h"

namespace tsdsr::dispatcher {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr char kZapVersion[] = "1.0";
constexpr int kLingerMs = 0;
constexpr auto kRefusalLogInterval = std::chrono::minutes(1);  // per key: a refused worker retries forever
constexpr size_t kMaxLoggedKeys = 1024;                        // bounds the per-key log state

// The request frames of RFC 27, after the REP envelope.
enum Frame : size_t { kVersion, kRequestId, kDomain, kAddress, kIdentity, kMechanism, kCredentials };

}  // namespace

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, std::map<std::string, std::string> authorized)
    : authorized_(std::move(authorized)), socket_(context, zmq::socket_type::rep) {}

Result<std::unique_ptr<ZapAuthenticator>> ZapAuthenticator::Start(zmq::context_t& context,
                                                                  std::map<std::string, std::string> authorized) {
  std::unique_ptr<ZapAuthenticator> zap(new ZapAuthenticator(context, std::move(authorized)));
  try {
    ConfigureSocket(zap->socket_, kLingerMs, /*router=*/false);
    zap->socket_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("cannot bind the ZAP handler at ") + kZapEndpoint + ": " + e.what());
  }
  // The socket moves to the thread here; thread start is the memory barrier ZeroMQ asks for.
  zap->thread_ = std::thread([z = zap.get()] { z->Run(); });
  return zap;
}

ZapAuthenticator::~ZapAuthenticator() { Stop(); }

void ZapAuthenticator::Stop() {
  if (!stopping_.exchange(true)) wakeup_.Raise();
  if (thread_.joinable()) thread_.join();
}

void ZapAuthenticator::Run() {
  zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wakeup_.fd(), ZMQ_POLLIN, 0}};
  while (!stopping_.load()) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("ZAP handler poll failed: {}", e.what());
      continue;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    auto request = ReceiveFrames(socket_);
    if (!request.ok()) continue;
    Status sent = SendFrames(socket_, Answer(*request));
    if (!sent.ok()) spdlog::error("ZAP handler could not answer: {}", sent.message());
  }
  socket_.close();
}

std::vector<std::string> ZapAuthenticator::Answer(const std::vector<std::string>& request) {
  const std::string request_id = request.size() > kRequestId ? request[kRequestId] : "";
  auto reply = [&](const char* code, const std::string& text, const std::string& user) {
    return std::vector<std::string>{kZapVersion, request_id, code, text, user, ""};
  };
  if (request.size() <= kMechanism || request[kVersion] != kZapVersion) {
    ++refused_;
    spdlog::error("malformed ZAP request ({} frames) refused", request.size());
    return reply("500", "malformed ZAP request", "");
  }
  const std::string& address = request[kAddress];
  if (request[kMechanism] != "CURVE" || request.size() <= kCredentials) {
    ++refused_;
    LogRefusal("", address, "it did not use CURVE (mechanism " + request[kMechanism] + ")");
    return reply("400", "CURVE required", "");
  }
  const std::string key = CurveKeyToZ85(request[kCredentials]);
  auto known = authorized_.find(key);
  if (key.empty() || known == authorized_.end()) {
    ++refused_;
    LogRefusal(key, address,
               "unknown key (to admit it, add it as a .pub file to the authorized_workers/ folder "
               "of --curve-dir and restart)");
    return reply("400", "unknown worker key", "");
  }
  ++accepted_;
  spdlog::info("worker at {} authenticated with key '{}' ({})", address, known->second, key);
  return reply("200", "OK", known->second);
}

void ZapAuthenticator::LogRefusal(const std::string& key, const std::string& address, const std::string& why) {
  const Clock::time_point now = Clock::now();
  auto last = last_logged_.find(key);
  if (last != last_logged_.end() && now - last->second < kRefusalLogInterval) {
    ++unlogged_[key];
    return;
  }
  if (last_logged_.size() >= kMaxLoggedKeys) {  // a flood of fresh keys: start over rather than grow
    last_logged_.clear();
    unlogged_.clear();
  }
  const int more = unlogged_[key];
  unlogged_.erase(key);
  last_logged_[key] = now;
  spdlog::warn("refused a worker connection from {} with CURVE key {}: {}{}", address.empty() ? "?" : address,
               key.empty() ? "(none)" : key, why,
               more > 0 ? " (and " + std::to_string(more) + " more refusals of it since the last report)" : "");
}

}  // namespace tsdsr::dispatcher

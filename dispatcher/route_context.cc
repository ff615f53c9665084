#include "dispatcher/route_context.h"

#include <string>
#include <vector>

#include "dispatcher/http/http_errors.h"

namespace tsdsr::dispatcher {

namespace {

constexpr int kDrainRetryAfterS = 5;  // another replica, or this one after its restart

}  // namespace

std::string ContentTypeOf(const Pistache::Rest::Request& request) {
  auto header = request.headers().tryGetRaw("Content-Type");
  return header ? header->value() : std::string();
}

ServiceInfo RouteContext::Service() const {
  ServiceInfo info = service_;
  info.draining = draining_.load();
  return info;
}

void RouteContext::Reject(std::string_view endpoint, Pistache::Http::ResponseWriter& w, const Status& status,
                          int retry_after_s) {
  metrics_.CountRequest(endpoint, static_cast<int>(HttpCodeFor(status.code())));
  if (status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kTooLarge ||
      status.code() == StatusCode::kUnsupportedType) {
    metrics_.CountJob(kOutcomeBadRequest);
  }
  if (retry_after_s > 0) AddHeader(w, "Retry-After", std::to_string(retry_after_s));
  SendError(w, status);
}

bool RouteContext::RefuseWhileDraining(std::string_view endpoint, Pistache::Http::ResponseWriter& w) {
  if (!draining_.load()) return false;
  Reject(endpoint, w, Status::Unavailable("server is shutting down"), kDrainRetryAfterS);
  return true;
}

Result<ImageRequest> RouteContext::ParseImage(const Pistache::Rest::Request& request) {
  return ParseImageRequest([&](const std::string& name) { return request.query().get(name); }, ContentTypeOf(request),
                           request.body(), defaults_, pool_.Snapshot().scales);
}

std::uint64_t RouteContext::Track(const Pistache::Tcp::Peer* peer, std::function<void()> cancel) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::uint64_t token = next_token_++;
  tracked_.emplace(peer, std::make_pair(token, std::move(cancel)));
  return token;
}

void RouteContext::Untrack(const Pistache::Tcp::Peer* peer, std::uint64_t token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [first, last] = tracked_.equal_range(peer);
  for (auto it = first; it != last; ++it) {
    if (it->second.first == token) {
      tracked_.erase(it);
      return;
    }
  }
}

void RouteContext::Disconnected(const Pistache::Tcp::Peer* peer) {
  std::vector<std::function<void()>> cancels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [first, last] = tracked_.equal_range(peer);
    for (auto it = first; it != last; ++it) cancels.push_back(std::move(it->second.second));
    tracked_.erase(first, last);
  }
  for (auto& cancel : cancels) cancel();
}

}  // namespace tsdsr::dispatcher

#include "dispatcher/route_context.h"

#include <optional>
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
  info.local_restarts = metrics_.worker_restarts();
  return info;
}

void RouteContext::Reject(std::string_view endpoint, Pistache::Http::ResponseWriter& w, const Status& status,
                          int retry_after_s) {
  metrics_.CountRequest(endpoint, static_cast<int>(HttpCodeFor(status.code())));
  if (status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kTooLarge ||
      status.code() == StatusCode::kUnsupportedType) {
    metrics_.CountJob(kOutcomeBadRequest);
  }
  if (retry_after_s == 0 && status.code() == StatusCode::kTooManyRequests) {
    retry_after_s = EstimateRetryAfterSeconds(pool_.Snapshot());
  }
  if (retry_after_s > 0) AddHeader(w, "Retry-After", std::to_string(retry_after_s));
  SendError(w, status);
}

bool RouteContext::RefuseWhileDraining(std::string_view endpoint, Pistache::Http::ResponseWriter& w) {
  if (!draining_.load()) return false;
  Reject(endpoint, w, Status::Unavailable("server is shutting down"), kDrainRetryAfterS);
  return true;
}

Result<ImageRequest> RouteContext::ParseImage(const Pistache::Rest::Request& request, std::string body) {
  return ParseImageRequest([&](const std::string& name) { return request.query().get(name); }, ContentTypeOf(request),
                           std::move(body), defaults_, pool_.Snapshot().scales);
}

Result<std::string> RouteContext::ClientOf(const Pistache::Rest::Request& request) const {
  if (std::optional<std::string> name = keys_ ? keys_->NameOf(AuthorizationOf(request)) : std::nullopt) return *name;
  if (const auto header = request.headers().tryGetRaw("X-Client-Id")) {
    if (!IsClientName(header->value())) {
      return Status::InvalidArgument("X-Client-Id must be 1 to 64 letters, digits and . _ - : @");
    }
    return header->value();
  }
  return request.address().host();
}

Result<std::string> RouteContext::AdmitClient(const Pistache::Rest::Request& request) {
  TSDSR_ASSIGN_OR_RETURN(std::string client, ClientOf(request));
  TSDSR_RETURN_IF_ERROR(CheckClientLimit(client));
  return client;
}

Status RouteContext::CheckClientLimit(const std::string& client) {
  const LoadReport load = Load();
  if (load.max_client_jobs <= 0) return Status::Ok();
  const PoolSnapshot pool = pool_.Snapshot();
  const JobsReport jobs = jobs_.Report();
  std::int64_t waiting = 0;
  if (auto it = pool.queued_by_client.find(client); it != pool.queued_by_client.end()) waiting += it->second;
  if (auto it = jobs.unfinished_by_client.find(client); it != jobs.unfinished_by_client.end()) waiting += it->second;
  if (waiting < load.max_client_jobs) return Status::Ok();
  metrics_.load().CountClientLimit();
  return Status::TooManyRequests("client " + client + " has " + std::to_string(waiting) +
                                 " jobs waiting; the limit is " + std::to_string(load.max_client_jobs) +
                                 " per client");
}

void RouteContext::SetLoadSource(std::function<LoadReport()> source) { load_source_ = std::move(source); }

LoadReport RouteContext::Load() const { return load_source_ ? load_source_() : LoadReport{}; }

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

// What the route handlers share: the request defaults, the pool, the jobs, the metrics, the drain flag, and the
// work tied to each connection (cancelled when its client goes away). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>

#include <pistache/http.h>
#include <pistache/router.h>

#include "common/status.h"
#include "dispatcher/http/auth.h"
#include "dispatcher/jobs/job_manager.h"
#include "dispatcher/pool/job_sink.h"
#include "dispatcher/status/metrics.h"
#include "dispatcher/status/status_pages.h"
#include "dispatcher/upscale_request.h"

namespace tsdsr::dispatcher {

class RouteContext {
 public:
  // `pool`, `jobs` and `metrics` must outlive the context; `keys` are the API's (their names identify clients).
  RouteContext(ServiceInfo service, UpscaleDefaults defaults, JobSink& pool, JobManager& jobs, Metrics& metrics,
               std::shared_ptr<const ApiKeys> keys)
      : service_(std::move(service)), defaults_(defaults), pool_(pool), jobs_(jobs), metrics_(metrics),
        keys_(std::move(keys)) {}

  // The service description, with the drain flag as it is now.
  ServiceInfo Service() const;
  const UpscaleDefaults& defaults() const { return defaults_; }
  JobSink& pool() { return pool_; }
  JobManager& jobs() { return jobs_; }
  Metrics& metrics() { return metrics_; }

  // Readiness turns false and new work gets 503 (SIGTERM drain).
  void SetDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // Counts a request to `endpoint` answered with `http_code`.
  void Count(std::string_view endpoint, int http_code) { metrics_.CountRequest(endpoint, http_code); }
  // Counts the request (and a bad request as a bad_request job) and sends the error; `retry_after_s` > 0 adds
  // Retry-After (for TooManyRequests the pool's estimate when 0). `status` must not be OK.
  void Reject(std::string_view endpoint, Pistache::Http::ResponseWriter& w, const Status& status,
              int retry_after_s = 0);
  // While draining, answers 503 with Retry-After and returns true.
  bool RefuseWhileDraining(std::string_view endpoint, Pistache::Http::ResponseWriter& w);
  // A single-image request (POST /upscale) with `body` validated against the pool's scales.
  Result<ImageRequest> ParseImage(const Pistache::Rest::Request& request, std::string body);

  // Who sent `request`, for turns and limits: the name of the API key it carries, else its X-Client-Id (1 to 64
  // letters, digits and . _ - : @), else its peer's address. InvalidArgument for a malformed X-Client-Id.
  Result<std::string> ClientOf(const Pistache::Rest::Request& request) const;
  // TooManyRequests when `client` already has --max-client-jobs jobs waiting (queued in the pool, or async jobs
  // accepted and not finished); counted in the metrics.
  Status CheckClientLimit(const std::string& client);
  // ClientOf, then CheckClientLimit: the client, or why it is refused.
  Result<std::string> AdmitClient(const Pistache::Rest::Request& request);
  // The front door's load now (memory held, connections): set by the service once its server runs.
  void SetLoadSource(std::function<LoadReport()> source);
  LoadReport Load() const;

  // Runs `cancel` if the client on `peer` goes away before Untrack(peer, token). The peer is only compared.
  std::uint64_t Track(const Pistache::Tcp::Peer* peer, std::function<void()> cancel);
  void Untrack(const Pistache::Tcp::Peer* peer, std::uint64_t token);
  // The client on `peer` went away: runs what is tracked for it.
  void Disconnected(const Pistache::Tcp::Peer* peer);

 private:
  const ServiceInfo service_;
  const UpscaleDefaults defaults_;
  JobSink& pool_;
  JobManager& jobs_;
  Metrics& metrics_;
  const std::shared_ptr<const ApiKeys> keys_;  // null or empty: no keys
  std::atomic<bool> draining_{false};
  std::function<LoadReport()> load_source_;  // set before serving, read afterwards

  std::mutex mu_;
  std::uint64_t next_token_ = 1;  // guarded by mu_
  std::multimap<const Pistache::Tcp::Peer*, std::pair<std::uint64_t, std::function<void()>>> tracked_;  // guarded
                                                                                                        // by mu_
};

// The Content-Type header of `request`, or "".
std::string ContentTypeOf(const Pistache::Rest::Request& request);

}  // namespace tsdsr::dispatcher

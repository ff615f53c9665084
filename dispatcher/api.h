// The HTTP API of DESIGN.md on a Pistache router: POST /upscale, GET /health, /health/live, /health/ready,
// /info, /stats, /metrics. Handlers validate, hand jobs to the broker and answer from its callback; the
// status pages read the broker's snapshot and never wait on inference.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string_view>

#include <pistache/http.h>
#include <pistache/router.h>

#include "dispatcher/broker.h"
#include "dispatcher/metrics.h"
#include "dispatcher/status_pages.h"
#include "dispatcher/upscale_request.h"

namespace tsdsr::dispatcher {

class Api {
 public:
  // `broker` and `metrics` must outlive the Api and the router it registers on.
  Api(ServiceInfo service, UpscaleDefaults defaults, Broker& broker, Metrics& metrics);

  // Adds every route. Call before the server starts.
  void Register(Pistache::Rest::Router& router);

  // Readiness turns false and new jobs get 503 (SIGTERM drain). Thread-safe.
  void SetDraining();
  bool draining() const { return draining_.load(); }

 private:
  void Upscale(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Health(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Live(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Ready(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Info(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Stats(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void MetricsPage(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  // A client went away: its unanswered jobs are cancelled (dropped from the queue, or stopped on a worker).
  void OnDisconnect(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

  // Builds the job of a validated request; its callback answers `response`.
  JobPtr MakeJob(const UpscaleQuery& query, const ImageProbe& probe, std::string_view image,
                 std::shared_ptr<Pistache::Tcp::Peer> peer, Pistache::Http::ResponseWriter response);
  void Answer(Pistache::Http::ResponseWriter& writer, const JobOutcome& outcome);
  void Reject(std::string_view endpoint, Pistache::Http::ResponseWriter& response, const Status& status);
  ServiceInfo Service() const;

  ServiceInfo service_;
  UpscaleDefaults defaults_;
  Broker& broker_;
  Metrics& metrics_;
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> next_job_id_{1};

  std::mutex peers_mu_;
  // Unanswered jobs by the connection that asked for them; the key is only compared, never dereferenced.
  std::unordered_multimap<const Pistache::Tcp::Peer*, std::uint64_t> jobs_by_peer_;  // guarded by peers_mu_
};

}  // namespace tsdsr::dispatcher

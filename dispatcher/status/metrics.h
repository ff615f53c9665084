// The dispatcher's Prometheus metrics (prefix tsdsr_), tsdsr_build_info{version,revision} among them. Every
// method is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "dispatcher/status/status_pages.h"
#include "dispatcher/status/worker_metrics.h"

namespace tsdsr::dispatcher {

// Job outcomes counted in tsdsr_jobs_total{outcome}.
inline constexpr std::string_view kOutcomeOk = "ok";
inline constexpr std::string_view kOutcomeQueueFull = "rejected_queue_full";
inline constexpr std::string_view kOutcomeTimeout = "timeout";
inline constexpr std::string_view kOutcomeCancelled = "cancelled";
inline constexpr std::string_view kOutcomeWorkerError = "worker_error";
inline constexpr std::string_view kOutcomeBadRequest = "bad_request";

// tsdsr_held_bytes, tsdsr_held_bytes_limit, tsdsr_http_connections, tsdsr_http_connections_limit,
// tsdsr_refused_total{reason=memory|connections|client_limit} and tsdsr_client_jobs_waiting{client} (bounded by
// ClientDepths). Thread-safe.
class LoadMetrics {
 public:
  explicit LoadMetrics(prometheus::Registry& registry);
  void Set(const LoadReport& load, const std::vector<std::pair<std::string, std::int64_t>>& clients);
  // A request refused because its client has too many jobs waiting.
  void CountClientLimit() { refused_.Add({{"reason", "client_limit"}}).Increment(); }

 private:
  prometheus::Gauge& held_;
  prometheus::Gauge& held_limit_;
  prometheus::Gauge& connections_;
  prometheus::Gauge& connections_limit_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Gauge>& client_waiting_;
  std::mutex mu_;
  std::int64_t counted_memory_ = 0;       // guarded by mu_: refusals already added to the counter
  std::int64_t counted_connections_ = 0;  // guarded by mu_
  std::map<std::string, prometheus::Gauge*> clients_;  // guarded by mu_: the labels exported now
};

class Metrics {
 public:
  Metrics();

  void CountRequest(std::string_view endpoint, int http_code);
  void CountJob(std::string_view outcome);
  // Seconds spent queued, computing on the worker, and from submission to answer, for one finished job.
  void ObserveJob(double queue_seconds, double compute_seconds, double total_seconds);
  void AddPixels(double in, double out);
  void SetQueue(double depth, double in_flight);
  // ready = idle and serving, busy = holding jobs, dead = connected but unable to serve (model failed to load).
  void SetWorkers(double ready, double busy, double dead);
  void CountWorkerRestart();
  // Restarts counted so far.
  std::int64_t worker_restarts() const { return static_cast<std::int64_t>(restarts_.Value()); }
  // Per-worker series (worker_metrics.h); RemoveWorker drops them when the worker leaves.
  void SetWorker(const std::string& worker, const std::string& device, const WorkerReadings& readings) {
    per_worker_.Set(worker, device, readings);
  }
  void RemoveWorker(const std::string& worker) { per_worker_.Remove(worker); }
  // The job store: tsdsr_stored_jobs{status}, tsdsr_jobs_waiting, tsdsr_result_store_bytes,
  // tsdsr_result_store_results.
  void SetJobStore(const JobsReport& report);
  // Outputs removed by retention: tsdsr_results_removed_total{reason} (expired, evicted).
  void CountResultsRemoved(std::string_view reason, int count);

  LoadMetrics& load() { return load_; }

  // The Prometheus text exposition of everything above.
  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& jobs_;
  prometheus::Histogram& queue_seconds_;
  prometheus::Histogram& compute_seconds_;
  prometheus::Histogram& total_seconds_;
  prometheus::Counter& pixels_in_;
  prometheus::Counter& pixels_out_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& in_flight_;
  prometheus::Family<prometheus::Gauge>& workers_;
  prometheus::Counter& restarts_;
  prometheus::Family<prometheus::Gauge>& stored_jobs_;
  prometheus::Gauge& jobs_waiting_;
  prometheus::Gauge& result_store_bytes_;
  prometheus::Gauge& result_store_results_;
  prometheus::Family<prometheus::Counter>& results_removed_;
  LoadMetrics load_;
  WorkerMetrics per_worker_;
};

}  // namespace tsdsr::dispatcher

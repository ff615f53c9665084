#include "dispatcher/status/metrics.h"

#include <algorithm>

#include <prometheus/text_serializer.h>

namespace tsdsr::dispatcher {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Buckets from 1 ms to ~2 min: small images on a GPU to big frames on a CPU.
Histogram::BucketBoundaries SecondsBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

Histogram& NewHistogram(prometheus::Registry& registry, const std::string& name, const std::string& help) {
  return BuildHistogram().Name(name).Help(help).Register(registry).Add({}, SecondsBuckets());
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(BuildCounter()
                    .Name("tsdsr_http_requests_total")
                    .Help("HTTP requests by endpoint and status code")
                    .Register(*registry_)),
      jobs_(BuildCounter().Name("tsdsr_jobs_total").Help("Upscale jobs by outcome").Register(*registry_)),
      queue_seconds_(NewHistogram(*registry_, "tsdsr_queue_wait_seconds", "Time jobs wait before a worker gets them")),
      compute_seconds_(NewHistogram(*registry_, "tsdsr_compute_seconds", "Worker time per job (decode, model, encode)")),
      total_seconds_(NewHistogram(*registry_, "tsdsr_request_seconds", "Submission to answer, per job")),
      pixels_in_(BuildCounter().Name("tsdsr_pixels_in_total").Help("Input pixels upscaled").Register(*registry_).Add({})),
      pixels_out_(
          BuildCounter().Name("tsdsr_pixels_out_total").Help("Output pixels produced").Register(*registry_).Add({})),
      queue_depth_(BuildGauge().Name("tsdsr_queue_depth").Help("Jobs waiting for a worker").Register(*registry_).Add({})),
      in_flight_(
          BuildGauge().Name("tsdsr_jobs_in_flight").Help("Jobs held by workers").Register(*registry_).Add({})),
      workers_(BuildGauge().Name("tsdsr_workers").Help("Workers by state (ready, busy, dead)").Register(*registry_)),
      restarts_(BuildCounter()
                    .Name("tsdsr_worker_restarts_total")
                    .Help("Local worker processes restarted by the supervisor")
                    .Register(*registry_)
                    .Add({})),
      stored_jobs_(BuildGauge()
                       .Name("tsdsr_stored_jobs")
                       .Help("Jobs in the job store by status (async jobs, and batch files whose output is kept)")
                       .Register(*registry_)),
      jobs_waiting_(BuildGauge()
                        .Name("tsdsr_jobs_waiting")
                        .Help("Accepted jobs not handed to the pool yet")
                        .Register(*registry_)
                        .Add({})),
      result_store_bytes_(BuildGauge()
                              .Name("tsdsr_result_store_bytes")
                              .Help("Bytes of the outputs kept in the result store")
                              .Register(*registry_)
                              .Add({})),
      result_store_results_(BuildGauge()
                                .Name("tsdsr_result_store_results")
                                .Help("Outputs kept in the result store")
                                .Register(*registry_)
                                .Add({})),
      results_removed_(BuildCounter()
                           .Name("tsdsr_results_removed_total")
                           .Help("Stored outputs removed, by reason (expired, evicted)")
                           .Register(*registry_)),
      load_(*registry_),
      per_worker_(*registry_) {
  BuildGauge()
      .Name("tsdsr_build_info")
      .Help("Always 1: the dispatcher's version and the source revision it was built from")
      .Register(*registry_)
      .Add({{"version", TSDSR_VERSION}, {"revision", TSDSR_REVISION}})
      .Set(1);
}

void Metrics::CountRequest(std::string_view endpoint, int http_code) {
  requests_.Add({{"endpoint", std::string(endpoint)}, {"code", std::to_string(http_code)}}).Increment();
}

void Metrics::CountJob(std::string_view outcome) { jobs_.Add({{"outcome", std::string(outcome)}}).Increment(); }

void Metrics::ObserveJob(double queue_seconds, double compute_seconds, double total_seconds) {
  queue_seconds_.Observe(queue_seconds);
  compute_seconds_.Observe(compute_seconds);
  total_seconds_.Observe(total_seconds);
}

void Metrics::AddPixels(double in, double out) {
  pixels_in_.Increment(in);
  pixels_out_.Increment(out);
}

void Metrics::SetQueue(double depth, double in_flight) {
  queue_depth_.Set(depth);
  in_flight_.Set(in_flight);
}

void Metrics::SetWorkers(double ready, double busy, double dead) {
  workers_.Add({{"state", "ready"}}).Set(ready);
  workers_.Add({{"state", "busy"}}).Set(busy);
  workers_.Add({{"state", "dead"}}).Set(dead);
}

void Metrics::CountWorkerRestart() { restarts_.Increment(); }

void Metrics::SetJobStore(const JobsReport& report) {
  for (const char* state : kJobStatuses) {
    auto it = report.by_state.find(state);
    stored_jobs_.Add({{"status", state}}).Set(it == report.by_state.end() ? 0.0 : double(it->second));
  }
  jobs_waiting_.Set(double(report.waiting));
  result_store_bytes_.Set(double(report.result_bytes));
  result_store_results_.Set(double(report.stored_results));
}

void Metrics::CountResultsRemoved(std::string_view reason, int count) {
  results_removed_.Add({{"reason", std::string(reason)}}).Increment(count);
}

LoadMetrics::LoadMetrics(prometheus::Registry& registry)
    : held_(prometheus::BuildGauge()
                .Name("tsdsr_held_bytes")
                .Help("Request bodies, responses and job inputs the dispatcher holds in memory")
                .Register(registry)
                .Add({})),
      held_limit_(prometheus::BuildGauge()
                      .Name("tsdsr_held_bytes_limit")
                      .Help("The memory budget for them (--max-queued-mb)")
                      .Register(registry)
                      .Add({})),
      connections_(
          prometheus::BuildGauge().Name("tsdsr_http_connections").Help("Open HTTP connections").Register(registry).Add({})),
      connections_limit_(prometheus::BuildGauge()
                             .Name("tsdsr_http_connections_limit")
                             .Help("Open HTTP connections allowed (--max-connections)")
                             .Register(registry)
                             .Add({})),
      refused_(prometheus::BuildCounter()
                   .Name("tsdsr_refused_total")
                   .Help("Requests or connections refused under load, by reason (memory, connections, client_limit)")
                   .Register(registry)),
      client_waiting_(prometheus::BuildGauge()
                          .Name("tsdsr_client_jobs_waiting")
                          .Help("Jobs waiting per client: the 10 deepest, the rest as (other)")
                          .Register(registry)) {}

void LoadMetrics::Set(const LoadReport& load, const std::vector<std::pair<std::string, std::int64_t>>& clients) {
  held_.Set(double(load.held_bytes));
  held_limit_.Set(double(load.max_held_bytes));
  connections_.Set(double(load.open_connections));
  connections_limit_.Set(double(load.max_connections));
  std::lock_guard<std::mutex> lock(mu_);
  refused_.Add({{"reason", "memory"}}).Increment(double(std::max<std::int64_t>(0, load.refused_memory - counted_memory_)));
  refused_.Add({{"reason", "connections"}})
      .Increment(double(std::max<std::int64_t>(0, load.refused_connections - counted_connections_)));
  counted_memory_ = std::max(counted_memory_, load.refused_memory);
  counted_connections_ = std::max(counted_connections_, load.refused_connections);
  std::map<std::string, prometheus::Gauge*> now;
  for (const auto& [client, waiting] : clients) {
    prometheus::Gauge& gauge = client_waiting_.Add({{"client", client}});
    gauge.Set(double(waiting));
    now[client] = &gauge;
  }
  for (const auto& [client, gauge] : clients_) {
    if (now.count(client) == 0) client_waiting_.Remove(gauge);
  }
  clients_ = std::move(now);
}

std::string Metrics::Serialize() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace tsdsr::dispatcher

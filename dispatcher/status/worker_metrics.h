// Per-worker series, labelled {worker, device}, from what each worker reports in its heartbeats:
//   tsdsr_worker_busy                       jobs computing now
//   tsdsr_worker_progress_total             tiles and video frames finished
//   tsdsr_worker_jobs_total{outcome}        jobs finished, ok or failed
//   tsdsr_worker_gpu_memory_used_bytes      GPU memory in use (GPU workers only)
//   tsdsr_worker_gpu_memory_total_bytes
//   tsdsr_worker_gpu_utilization_ratio      0..1
//   tsdsr_worker_gpu_power_watts
//   tsdsr_worker_gpu_energy_joules_total    since the GPU's driver loaded
//   tsdsr_worker_gpu_temperature_celsius
// The GPU series have the meanings of NVIDIA's DCGM exporter in Prometheus units. A reading the worker does not
// have (a CPU worker, a sensor the board lacks) is absent, never a sentinel value. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace tsdsr::dispatcher {

// One worker's report. Negative readings are unknown.
struct WorkerReadings {
  bool gpu = false;  // the device is a GPU: its memory is GPU memory
  double busy = 0;
  std::int64_t progress = 0;     // counters, as the worker counts them since its start
  std::int64_t jobs_ok = 0;
  std::int64_t jobs_failed = 0;
  double memory_used_bytes = -1;
  double memory_total_bytes = -1;
  double utilization = -1;
  double power_watts = -1;
  double energy_joules = -1;     // a counter too
  double temperature_celsius = -1;
};

class WorkerMetrics {
 public:
  explicit WorkerMetrics(prometheus::Registry& registry);

  // Sets `worker`'s series to `readings`. Counters advance by what the worker's own counters advanced; when one
  // goes back (the worker restarted under the same name), by its new value.
  void Set(const std::string& worker, const std::string& device, const WorkerReadings& readings);
  // Drops every series of `worker` (it left the pool).
  void Remove(const std::string& worker);

 private:
  // A counter of one worker, with the worker's own total when it was last set.
  struct CounterSeries {
    prometheus::Family<prometheus::Counter>* family;
    prometheus::Counter* counter;
    double last;
  };
  // The series of one worker: each gauge family's child, and its counters by SetCounter's key.
  struct Series {
    prometheus::Labels labels;
    std::map<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*> gauges;
    std::map<std::string, CounterSeries> counters;
  };
  // `value` when known (>= 0), else the series removed.
  static void SetGauge(Series& series, prometheus::Family<prometheus::Gauge>& family, double value);
  // Advances the counter `key` of `family` (with `extra` labels) to the worker's `total`; nothing while unknown.
  static void SetCounter(Series& series, const std::string& key, prometheus::Family<prometheus::Counter>& family,
                         double total, const prometheus::Labels& extra = {});
  static void RemoveAll(Series& series);

  prometheus::Family<prometheus::Gauge>& busy_;
  prometheus::Family<prometheus::Counter>& progress_;
  prometheus::Family<prometheus::Counter>& jobs_;
  prometheus::Family<prometheus::Gauge>& memory_used_;
  prometheus::Family<prometheus::Gauge>& memory_total_;
  prometheus::Family<prometheus::Gauge>& utilization_;
  prometheus::Family<prometheus::Gauge>& power_;
  prometheus::Family<prometheus::Counter>& energy_;
  prometheus::Family<prometheus::Gauge>& temperature_;

  std::mutex mu_;
  std::map<std::string, Series> series_;  // guarded by mu_; by worker
};

}  // namespace tsdsr::dispatcher

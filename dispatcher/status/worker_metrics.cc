#include "dispatcher/status/worker_metrics.h"

namespace tsdsr::dispatcher {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

prometheus::Family<prometheus::Gauge>& NewGauge(prometheus::Registry& registry, const std::string& name,
                                                const std::string& help) {
  return BuildGauge().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Counter>& NewCounter(prometheus::Registry& registry, const std::string& name,
                                                    const std::string& help) {
  return BuildCounter().Name(name).Help(help).Register(registry);
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry)
    : busy_(NewGauge(registry, "tsdsr_worker_busy", "Jobs the worker is computing now")),
      progress_(NewCounter(registry, "tsdsr_worker_progress_total", "Tiles and video frames the worker finished")),
      jobs_(NewCounter(registry, "tsdsr_worker_jobs_total", "Jobs the worker finished, by outcome (ok, failed)")),
      memory_used_(NewGauge(registry, "tsdsr_worker_gpu_memory_used_bytes", "GPU memory in use (DCGM FB_USED)")),
      memory_total_(NewGauge(registry, "tsdsr_worker_gpu_memory_total_bytes", "GPU memory in all")),
      utilization_(NewGauge(registry, "tsdsr_worker_gpu_utilization_ratio",
                            "Share of the last sample period a kernel ran on the GPU, 0..1 (DCGM GPU_UTIL)")),
      power_(NewGauge(registry, "tsdsr_worker_gpu_power_watts", "GPU board power draw (DCGM POWER_USAGE)")),
      energy_(NewCounter(registry, "tsdsr_worker_gpu_energy_joules_total",
                         "GPU energy since its driver loaded (DCGM TOTAL_ENERGY_CONSUMPTION)")),
      temperature_(NewGauge(registry, "tsdsr_worker_gpu_temperature_celsius", "GPU core temperature (DCGM GPU_TEMP)")) {}

void WorkerMetrics::Set(const std::string& worker, const std::string& device, const WorkerReadings& readings) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& series = series_[worker];
  series.labels = {{"worker", worker}, {"device", device}};
  SetGauge(series, busy_, readings.busy);
  SetCounter(series, "progress", progress_, double(readings.progress));
  SetCounter(series, "jobs_ok", jobs_, double(readings.jobs_ok), {{"outcome", "ok"}});
  SetCounter(series, "jobs_failed", jobs_, double(readings.jobs_failed), {{"outcome", "failed"}});
  const bool gpu_memory = readings.gpu && readings.memory_total_bytes > 0;
  SetGauge(series, memory_used_, gpu_memory ? readings.memory_used_bytes : -1);
  SetGauge(series, memory_total_, gpu_memory ? readings.memory_total_bytes : -1);
  SetGauge(series, utilization_, readings.utilization);
  SetGauge(series, power_, readings.power_watts);
  SetCounter(series, "energy", energy_, readings.energy_joules);
  SetGauge(series, temperature_, readings.temperature_celsius);
}

void WorkerMetrics::Remove(const std::string& worker) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(worker);
  if (it == series_.end()) return;
  RemoveAll(it->second);
  series_.erase(it);
}

void WorkerMetrics::SetGauge(Series& series, prometheus::Family<prometheus::Gauge>& family, double value) {
  auto it = series.gauges.find(&family);
  if (value < 0) {
    if (it == series.gauges.end()) return;
    family.Remove(it->second);
    series.gauges.erase(it);
    return;
  }
  if (it == series.gauges.end()) it = series.gauges.emplace(&family, &family.Add(series.labels)).first;
  it->second->Set(value);
}

void WorkerMetrics::SetCounter(Series& series, const std::string& key, prometheus::Family<prometheus::Counter>& family,
                               double total, const prometheus::Labels& extra) {
  if (total < 0) return;
  auto it = series.counters.find(key);
  if (it == series.counters.end()) {
    prometheus::Labels labels = series.labels;
    labels.insert(extra.begin(), extra.end());
    it = series.counters.emplace(key, CounterSeries{&family, &family.Add(labels), 0.0}).first;
  }
  CounterSeries& c = it->second;
  c.counter->Increment(total >= c.last ? total - c.last : total);
  c.last = total;
}

void WorkerMetrics::RemoveAll(Series& series) {
  for (auto& [family, gauge] : series.gauges) family->Remove(gauge);
  for (auto& [key, c] : series.counters) c.family->Remove(c.counter);
  series.gauges.clear();
  series.counters.clear();
}

}  // namespace tsdsr::dispatcher

#include "bench/pool_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tsdsr::bench {
namespace {

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string CpuPercent(double cpu_s, double seconds) {
  return seconds > 0 ? Format("%.0f%%", 100 * cpu_s / seconds) : "-";
}

nlohmann::json CpuJson(const CpuSeconds& cpu, double seconds) {
  auto percent = [seconds](double cpu_s) { return seconds > 0 ? 100 * cpu_s / seconds : 0; };
  return {{"dispatcher", percent(cpu.dispatcher)},
          {"workers", percent(cpu.workers)},
          {"client", percent(cpu.client)},
          {"others", percent(cpu.others())},
          {"steal", percent(cpu.steal)}};
}

nlohmann::json PhaseJson(const PhaseSummary& phase) {
  return {{"seconds", phase.seconds},
          {"ok", phase.ok},
          {"errors", phase.errors},
          {"latency_ms", {{"p50", Percentile(phase.latency, 50)}, {"p99", Percentile(phase.latency, 99)}}},
          {"added_ms",
           {{"p50", Percentile(phase.added, 50)},
            {"p99", Percentile(phase.added, 99)},
            {"max", Percentile(phase.added, 100)}}},
          {"queue_ms", {{"p50", Percentile(phase.queue, 50)}, {"p99", Percentile(phase.queue, 99)}}},
          {"cpu_percent_of_one_core", CpuJson(phase.cpu, phase.seconds)}};
}

}  // namespace

PhaseSummary Summarise(const std::vector<Sample>& samples, Clock::time_point from, Clock::time_point to) {
  PhaseSummary summary;
  summary.seconds = std::chrono::duration<double>(to - from).count();
  for (const Sample& s : samples) {
    if (s.end < from || s.end >= to) continue;
    if (!s.ok) {
      ++summary.errors;
      continue;
    }
    ++summary.ok;
    summary.latency.push_back(s.latency_ms);
    summary.added.push_back(s.latency_ms - s.compute_ms);
    summary.queue.push_back(s.queue_ms);
  }
  return summary;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const double rank = std::ceil(p / 100 * static_cast<double>(values.size()));
  const size_t index = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

std::string MarkdownTable(const std::vector<PointResult>& points) {
  std::string table =
      "| workers | outstanding | jobs/s | ideal jobs/s | of ideal | CPU dispatcher | CPU workers | CPU client "
      "| latency jobs | added p50 ms | added p99 ms | CPU others | errors |\n"
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const PointResult& p : points) {
    const CpuSeconds& cpu = p.throughput.cpu;
    const double s = p.throughput.seconds;
    table += "| " + std::to_string(p.workers) + " | " + std::to_string(p.outstanding) + " | " +
             Format("%.1f", p.jobs_per_s()) + " | " + Format("%.1f", p.ideal_jobs_per_s()) + " | " +
             Format("%.3f", p.fraction_of_ideal()) + " | " + CpuPercent(cpu.dispatcher, s) + " | " +
             CpuPercent(cpu.workers, s) + " | " + CpuPercent(cpu.client, s) + " | " + std::to_string(p.latency.ok) +
             " | " + Format("%.2f", Percentile(p.latency.added, 50)) + " | " +
             Format("%.2f", Percentile(p.latency.added, 99)) + " | " + CpuPercent(cpu.others(), s) + " / " +
             CpuPercent(p.latency.cpu.others(), p.latency.seconds) + " | " +
             std::to_string(p.throughput.errors + p.latency.errors) + " |\n";
  }
  return table;
}

nlohmann::json ToJson(const std::vector<PointResult>& points) {
  nlohmann::json out = nlohmann::json::array();
  for (const PointResult& p : points) {
    out.push_back({{"workers", p.workers},
                   {"slots", p.slots},
                   {"ms_per_job", p.ms_per_job},
                   {"outstanding", p.outstanding},
                   {"jobs_per_s", p.jobs_per_s()},
                   {"ideal_jobs_per_s", p.ideal_jobs_per_s()},
                   {"fraction_of_ideal", p.fraction_of_ideal()},
                   {"throughput_phase", PhaseJson(p.throughput)},
                   {"latency_outstanding", p.latency_outstanding},
                   {"latency_phase", PhaseJson(p.latency)},
                   {"first_error", p.first_error},
                   {"dispatcher_exit", p.dispatcher_exit}});
  }
  return out;
}

}  // namespace tsdsr::bench

// What the pool benchmark measured at one pool size, how it is summarised from the raw samples, and how it
// is printed (a Markdown table) and saved (JSON).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/load_driver.h"
#include "bench/process_cpu.h"

namespace tsdsr::bench {

// The samples of one load phase whose answer came inside a measuring window.
struct PhaseSummary {
  double seconds = 0;           // length of the window
  std::int64_t ok = 0;          // 200 answers in the window
  std::int64_t errors = 0;      // failed requests in the window
  std::vector<double> latency;  // client-observed ms of each ok answer
  std::vector<double> added;    // latency − X-Compute-Ms: what the dispatcher path added
  std::vector<double> queue;    // X-Queue-Ms
  CpuSeconds cpu;               // used during the window (not set by Summarise)
};

// Keeps the samples that ended in [from, to). Thread-safe (pure).
PhaseSummary Summarise(const std::vector<Sample>& samples, Clock::time_point from, Clock::time_point to);

// The p-th percentile (0 ≤ p ≤ 100) by nearest rank; 0 for no values. Thread-safe (pure).
double Percentile(std::vector<double> values, double p);

// One pool size.
struct PointResult {
  int workers = 0;
  int slots = 0;          // job slots of all workers together (from /info)
  double ms_per_job = 0;  // simulated model time of one job
  // Throughput phase: `outstanding` requests in flight all the time, so no worker should idle.
  int outstanding = 0;
  PhaseSummary throughput;
  // Latency phase: at most one request per worker, each after a random pause: no job waits in a queue, so
  // added latency is pure overhead, and requests arrive independently rather than in lockstep.
  int latency_outstanding = 0;
  PhaseSummary latency;
  std::string first_error;      // of either phase; "" when none
  std::string dispatcher_exit;  // how the dispatcher ended after SIGTERM, e.g. "exit code 0"

  // Jobs answered 200 per second of the throughput window.
  double jobs_per_s() const { return throughput.seconds > 0 ? throughput.ok / throughput.seconds : 0; }
  // What N workers that never wait could do: N × 1000 / ms_per_job.
  double ideal_jobs_per_s() const { return ms_per_job > 0 ? workers * 1000.0 / ms_per_job : 0; }
  // jobs_per_s() / ideal_jobs_per_s().
  double fraction_of_ideal() const { return ideal_jobs_per_s() > 0 ? jobs_per_s() / ideal_jobs_per_s() : 0; }
};

// The results as a Markdown table, one row per pool size, CPU as % of one core over the throughput window,
// and "others" (everything else the machine ran meanwhile) over the throughput / latency window.
std::string MarkdownTable(const std::vector<PointResult>& points);

// The results with every figure of the table plus the raw percentiles, as JSON.
nlohmann::json ToJson(const std::vector<PointResult>& points);

}  // namespace tsdsr::bench

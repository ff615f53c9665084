// tsdsr-pool-bench: how much of a worker pool the dispatcher turns into throughput, and how much latency it
// adds. For each pool size N it starts a real tsdsr-dispatcher with N local workers running the simulated
// model (simulated:MS, a sleep: no CPU), drives it over HTTP from client threads, and reports jobs/s against
// the ideal N / MS and the added latency (client-observed minus the worker's X-Compute-Ms). See README.md.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "bench/load_driver.h"
#include "bench/pool_report.h"
#include "common/cli.h"
#include "tests/dispatcher_process.h"

namespace tsdsr::bench {
namespace {

struct BenchOptions {
  std::vector<int> workers = {1, 2, 4, 8, 16};  // pool sizes to measure
  int ms = 100;                                 // simulated model time per tile (= per job here)
  double seconds = 10;                          // measuring window of the throughput phase
  double latency_seconds = 30;                  // measuring window of the latency phase (p99 needs samples)
  double warmup_seconds = 2;                    // load before each window that is not measured
  int concurrency = 2;                          // throughput phase: outstanding = concurrency × slots
  int think_ms = -1;                            // latency phase: random pause before each request, up to
                                                // this; -1 = ms, 0 = none (requests then stay in lockstep)
  int image_size = 32;                          // edge of the square PNG sent
  int process_size = 64;                        // ≥ image_size: one tile per job
  int scale = 2;
  std::string json;                           // also write the results here
  std::string samples;                        // also write every measured request here (CSV)
  std::string dispatcher;                     // default: tsdsr-dispatcher beside this program
  std::vector<std::string> dispatcher_flags;  // extra dispatcher flags, e.g. --http-threads=8
};


CliOutcome ParseOptions(int argc, char** argv, BenchOptions* o) {
  CLI::App app("tsdsr-pool-bench: dispatcher throughput and added latency over pools of simulated workers.");
  app.add_option("--workers", o->workers, "Pool sizes, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--ms", o->ms, "Simulated model time per job, ms (simulated:MS)")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  app.add_option("--seconds", o->seconds, "Measuring window of the throughput phase, s")->capture_default_str();
  app.add_option("--latency-seconds", o->latency_seconds, "Measuring window of the latency phase, s")
      ->capture_default_str();
  app.add_option("--warmup-seconds", o->warmup_seconds, "Unmeasured load before each window, s")->capture_default_str();
  app.add_option("--concurrency", o->concurrency, "Requests outstanding per worker slot in the throughput phase")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--think-ms", o->think_ms,
                 "Latency phase: each client pauses a random time up to this before each request, so requests "
                 "arrive independently (-1: --ms; 0: no pause, requests in lockstep)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 600000));
  app.add_option("--image-size", o->image_size, "Edge of the square PNG sent, px")->capture_default_str();
  app.add_option("--process-size", o->process_size, "process_size of each request (tile edge)")->capture_default_str();
  app.add_option("--scale", o->scale, "upscale of each request")->capture_default_str();
  app.add_option("--json", o->json, "Also write the results as JSON to this file");
  app.add_option("--samples", o->samples,
                 "Also write every measured request to this CSV file: workers, phase, end_s (from the window's "
                 "start), latency_ms, compute_ms, queue_ms, ok");
  app.add_option("--dispatcher", o->dispatcher, "tsdsr-dispatcher to run (default: beside this program)");
  app.add_option("--dispatcher-flag", o->dispatcher_flags,
                 "Extra flag for the dispatcher, e.g. --dispatcher-flag=--http-threads=8 (repeatable)")
      ->allow_extra_args(false);
  CliOutcome outcome = ParseCommandLine(app, ArgsOf(argc, argv));
  if (o->dispatcher.empty()) o->dispatcher = ProgramDir() + "/tsdsr-dispatcher";
  return outcome;
}

Status Validate(const BenchOptions& o) {
  for (int n : o.workers) {
    if (n < 1 || n > 256) {
      return Status::InvalidArgument("--workers: each size must be in 1..256, got " + std::to_string(n));
    }
  }
  if (o.workers.empty()) return Status::InvalidArgument("--workers: give at least one pool size");
  if (o.seconds <= 0 || o.latency_seconds <= 0 || o.warmup_seconds < 0) {
    return Status::InvalidArgument("--seconds and --latency-seconds must be > 0, --warmup-seconds ≥ 0");
  }
  if (o.image_size < 1 || o.image_size > 4096) return Status::InvalidArgument("--image-size must be in 1..4096");
  if (access(o.dispatcher.c_str(), X_OK) != 0) {
    return Status::InvalidArgument("--dispatcher: " + o.dispatcher + " is not an executable program");
  }
  return Status::Ok();
}

// A square gradient, PNG-encoded: small, valid, and the same for every request.
std::string TestPng(int size) {
  cv::Mat image(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / size, y * 255 / size, 128);
  }
  std::vector<unsigned char> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

std::chrono::duration<double> Seconds(double s) { return std::chrono::duration<double>(s); }

// Appends the samples that ended in [from, to) to o.samples (when set), one CSV row each.
Status AppendSamples(const BenchOptions& o, int workers, const char* phase, const std::vector<Sample>& samples,
                     Clock::time_point from, Clock::time_point to) {
  if (o.samples.empty()) return Status::Ok();
  std::ofstream file(o.samples, std::ios::app);
  for (const Sample& s : samples) {
    if (s.end < from || s.end >= to) continue;
    char row[160];
    std::snprintf(row, sizeof(row), "%d,%s,%.6f,%.3f,%.3f,%.3f,%d\n", workers, phase,
                  std::chrono::duration<double>(s.end - from).count(), s.latency_ms, s.compute_ms, s.queue_ms,
                  s.ok ? 1 : 0);
    file << row;
  }
  if (!file) return Status::Internal("cannot write --samples " + o.samples);
  return Status::Ok();
}

// Runs `load` for the warm-up, then measures for o.seconds (throughput) or o.latency_seconds (latency); the
// summary includes the CPU used in the window. Keeps the first error in point->first_error.
Result<PhaseSummary> RunPhase(const BenchOptions& o, const LoadOptions& load, int dispatcher_pid, bool throughput,
                              PointResult* point) {
  TSDSR_ASSIGN_OR_RETURN(auto driver, LoadDriver::Start(load));
  std::this_thread::sleep_for(Seconds(o.warmup_seconds));
  const Clock::time_point from = Clock::now();
  const CpuSeconds cpu_before = ReadCpu(dispatcher_pid);
  std::this_thread::sleep_for(Seconds(throughput ? o.seconds : o.latency_seconds));
  const Clock::time_point to = Clock::now();
  const CpuSeconds cpu = ReadCpu(dispatcher_pid) - cpu_before;
  std::vector<Sample> samples = driver->Stop();
  if (point->first_error.empty()) point->first_error = driver->first_error();
  const char* phase = throughput ? "throughput" : "latency";
  TSDSR_RETURN_IF_ERROR(AppendSamples(o, point->workers, phase, samples, from, to));
  PhaseSummary summary = Summarise(samples, from, to);
  summary.cpu = cpu;
  return summary;
}

// Total job slots of the pool, from /info; 2 per worker (the worker's default) when /info does not say.
int SlotsOf(testing::DispatcherProcess& process, int workers) {
  auto response = process.http().Get("/info");
  int slots = 0;
  if (response.ok() && response->status == 200) {
    auto info = nlohmann::json::parse(response->body, nullptr, false);
    if (!info.is_discarded() && info.contains("workers") && info["workers"].is_array()) {
      for (const auto& w : info["workers"]) slots += w.value("slots", 0);
    }
  }
  return slots > 0 ? slots : 2 * workers;
}

Result<PointResult> RunPoint(const BenchOptions& o, int workers, const std::string& image) {
  testing::DispatcherProcessOptions start;
  start.program = o.dispatcher;
  start.port_file = (std::filesystem::temp_directory_path() /
                     ("tsdsr-pool-bench-" + std::to_string(getpid()) + "-" + std::to_string(workers) + ".port"))
                        .string();
  start.workers = workers;
  start.extra_flags = {"--model", "simulated:" + std::to_string(o.ms)};
  start.extra_flags.insert(start.extra_flags.end(), o.dispatcher_flags.begin(), o.dispatcher_flags.end());
  start.ready_timeout = std::chrono::minutes(3);  // N LibTorch workers load at once on few cores
  auto process = testing::DispatcherProcess::Start(start);
  std::filesystem::remove(start.port_file);
  if (!process.ok()) return process.status();

  PointResult point;
  point.workers = workers;
  point.ms_per_job = o.ms;
  point.slots = SlotsOf(**process, workers);
  LoadOptions load;
  load.base_url = (*process)->base_url();
  load.path = "/upscale?upscale=" + std::to_string(o.scale) + "&process_size=" + std::to_string(o.process_size);
  load.image = image;
  load.concurrency = point.outstanding = o.concurrency * point.slots;
  const int pid = (*process)->pid();
  TSDSR_ASSIGN_OR_RETURN(point.throughput, RunPhase(o, load, pid, /*throughput=*/true, &point));
  load.concurrency = point.latency_outstanding = workers;
  load.think_max = std::chrono::milliseconds(o.think_ms < 0 ? o.ms : o.think_ms);
  TSDSR_ASSIGN_OR_RETURN(point.latency, RunPhase(o, load, pid, /*throughput=*/false, &point));
  point.dispatcher_exit = (*process)->Terminate(std::chrono::seconds(30));
  return point;
}

Status WriteJson(const BenchOptions& o, const std::vector<PointResult>& points) {
  nlohmann::json out = {{"ms", o.ms},
                        {"seconds", o.seconds},
                        {"latency_seconds", o.latency_seconds},
                        {"think_ms", o.think_ms < 0 ? o.ms : o.think_ms},
                        {"warmup_seconds", o.warmup_seconds},
                        {"concurrency", o.concurrency},
                        {"image_size", o.image_size},
                        {"process_size", o.process_size},
                        {"scale", o.scale},
                        {"cpus", std::thread::hardware_concurrency()},
                        {"dispatcher_flags", o.dispatcher_flags},
                        {"points", ToJson(points)}};
  std::ofstream file(o.json);
  file << out.dump(2) << "\n";
  if (!file) return Status::Internal("cannot write --json " + o.json);
  return Status::Ok();
}

int Main(int argc, char** argv) {
  BenchOptions options;
  CliOutcome outcome = ParseOptions(argc, argv, &options);
  if (auto exit_code = FinishCommandLine(outcome, [&] { return Validate(options); })) return *exit_code;
  const std::string image = TestPng(options.image_size);
  if (!options.samples.empty()) {
    std::ofstream(options.samples) << "workers,phase,end_s,latency_ms,compute_ms,queue_ms,ok\n";
  }
  std::vector<PointResult> points;
  for (int workers : options.workers) {
    std::fprintf(stderr, "%d worker(s): starting\n", workers);
    auto point = RunPoint(options, workers, image);
    if (!point.ok()) {
      std::fprintf(stderr, "%d worker(s): %s\n", workers, point.status().ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "%d worker(s): %.1f jobs/s (%.3f of ideal), added p99 %.2f ms; dispatcher %s%s%s\n", workers,
                 point->jobs_per_s(), point->fraction_of_ideal(), Percentile(point->latency.added, 99),
                 point->dispatcher_exit.c_str(),
                 point->first_error.empty() ? "" : "; first error: ", point->first_error.c_str());
    points.push_back(std::move(*point));
  }
  std::printf("%s", MarkdownTable(points).c_str());
  if (!options.json.empty()) {
    if (Status written = WriteJson(options, points); !written.ok()) {
      std::fprintf(stderr, "error: %s\n", written.message().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace tsdsr::bench

int main(int argc, char** argv) { return tsdsr::bench::Main(argc, argv); }

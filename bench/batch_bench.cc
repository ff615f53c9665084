// tsdsr-batch-bench: how close `tsdsr-client --batch` comes to keeping a pool busy. For each pool size N it starts
// a real tsdsr-dispatcher with N local workers on the simulated model (simulated:MS, a sleep: no CPU), writes a
// folder of small PNGs (one tile each, so one image = MS on a worker), runs the real tsdsr-client over it with its
// default -j, and reports images/s against the ideal N × 1000 / MS and the client's own CPU time per image.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "bench/process_cpu.h"
#include "common/cli.h"
#include "tests/dispatcher_process.h"

extern char** environ;

namespace tsdsr::bench {
namespace {

namespace fs = std::filesystem;

struct BenchOptions {
  std::vector<int> workers = {1, 2, 4, 8};
  int ms = 100;         // simulated time per tile, and so per image
  int images = 200;     // files in the folder
  int image_size = 32;  // edge of each square PNG; ≤ process_size: one tile
  int process_size = 64;
  std::string json;
  std::string dispatcher;  // default: beside this program
  std::string client;      // default: beside this program
};

struct Point {
  int workers = 0;
  double seconds = 0;       // the client's run, start to exit
  double client_cpu_s = 0;  // its user + system time
  double pool_cpu_s = 0;    // the dispatcher's and its workers' in the same time
  int ok = 0;
  int exit_code = -1;

  double images_per_s(int images) const { return images / seconds; }
  double ideal_per_s(int ms) const { return workers * 1000.0 / ms; }
};


// Writes `count` different PNGs of `size`×`size` into `dir`.
void WriteImages(const std::string& dir, int count, int size) {
  fs::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    cv::Mat image(size, size, CV_8UC3);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
    char name[32];
    std::snprintf(name, sizeof(name), "/frame_%04d.png", i);
    cv::imwrite(dir + name, image);
  }
}

// Runs `argv` with stdout into `stdout_path`; its exit code (-1 when it did not exit normally) and, in *cpu_s,
// its user + system seconds.
int RunChild(const std::vector<std::string>& argv, const std::string& stdout_path, double* cpu_s) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return -1;
  *cpu_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Result<Point> RunPoint(const BenchOptions& o, int workers, const std::string& scratch) {
  testing::DispatcherProcessOptions start;
  start.program = o.dispatcher;
  start.port_file = scratch + "/port-" + std::to_string(workers);
  start.workers = workers;
  start.extra_flags = {"--model", "simulated:" + std::to_string(o.ms)};
  start.ready_timeout = std::chrono::minutes(3);
  TSDSR_ASSIGN_OR_RETURN(auto process, testing::DispatcherProcess::Start(start));
  const std::string out = scratch + "/out-" + std::to_string(workers);
  const std::string report = scratch + "/report-" + std::to_string(workers) + ".json";
  Point point;
  point.workers = workers;
  const CpuSeconds pool_before = ReadCpu(process->pid());
  const auto begin = std::chrono::steady_clock::now();
  point.exit_code = RunChild({o.client, "--port", std::to_string(process->port()), "--batch", scratch + "/in",
                              "--output", out, "-ps", std::to_string(o.process_size), "--json"},
                             report, &point.client_cpu_s);
  point.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  const CpuSeconds pool = ReadCpu(process->pid()) - pool_before;
  point.pool_cpu_s = pool.dispatcher + pool.workers;
  std::ifstream in(report);
  auto json = nlohmann::json::parse(in, nullptr, false);
  point.ok = json.is_object() ? json.value("ok", 0) : 0;
  process->Terminate(std::chrono::seconds(30));
  fs::remove_all(out);
  return point;
}

std::string MarkdownTable(const BenchOptions& o, const std::vector<Point>& points) {
  std::ostringstream t;
  t << "| workers | images | seconds | images/s | ideal images/s | of ideal | client CPU ms/image | "
       "dispatcher+workers CPU ms/image | exit |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const Point& p : points) {
    char row[256];
    std::snprintf(row, sizeof(row), "| %d | %d | %.2f | %.1f | %.1f | %.3f | %.2f | %.2f | %d |\n", p.workers, p.ok,
                  p.seconds, p.images_per_s(o.images), p.ideal_per_s(o.ms),
                  p.images_per_s(o.images) / p.ideal_per_s(o.ms), 1000 * p.client_cpu_s / o.images,
                  1000 * p.pool_cpu_s / o.images, p.exit_code);
    t << row;
  }
  return t.str();
}

Status WriteJson(const BenchOptions& o, const std::vector<Point>& points) {
  nlohmann::json out = {
      {"ms", o.ms}, {"images", o.images}, {"image_size", o.image_size}, {"points", nlohmann::json::array()}};
  for (const Point& p : points) {
    out["points"].push_back({{"workers", p.workers},
                             {"seconds", p.seconds},
                             {"ok", p.ok},
                             {"images_per_s", p.images_per_s(o.images)},
                             {"ideal_per_s", p.ideal_per_s(o.ms)},
                             {"client_cpu_s", p.client_cpu_s},
                             {"pool_cpu_s", p.pool_cpu_s},
                             {"exit", p.exit_code}});
  }
  std::ofstream file(o.json);
  file << out.dump(2) << "\n";
  return file ? Status::Ok() : Status::Internal("cannot write --json " + o.json);
}

int Main(int argc, char** argv) {
  BenchOptions o;
  CLI::App app("tsdsr-batch-bench: tsdsr-client --batch throughput over pools of simulated workers.");
  app.add_option("--workers", o.workers, "Pool sizes, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--ms", o.ms, "Simulated time per image, ms")->capture_default_str()->check(CLI::Range(1, 60000));
  app.add_option("--images", o.images, "Images in the folder")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--image-size", o.image_size, "Edge of each PNG, px")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--process-size", o.process_size, "process_size (≥ --image-size: one tile per image)")
      ->capture_default_str();
  app.add_option("--json", o.json, "Also write the results as JSON to this file");
  app.add_option("--dispatcher", o.dispatcher, "tsdsr-dispatcher to run (default: beside this program)");
  app.add_option("--client", o.client, "tsdsr-client to run (default: beside this program)");
  if (auto exit_code = FinishCommandLine(ParseCommandLine(app, ArgsOf(argc, argv)), [] { return Status::Ok(); })) {
    return *exit_code;
  }
  if (o.dispatcher.empty()) o.dispatcher = ProgramDir() + "/tsdsr-dispatcher";
  if (o.client.empty()) o.client = ProgramDir() + "/tsdsr-client";
  const std::string scratch = (fs::temp_directory_path() / ("tsdsr-batch-bench-" + std::to_string(getpid()))).string();
  WriteImages(scratch + "/in", o.images, o.image_size);
  std::vector<Point> points;
  for (int workers : o.workers) {
    auto point = RunPoint(o, workers, scratch);
    if (!point.ok()) {
      std::fprintf(stderr, "%d worker(s): %s\n", workers, point.status().ToString().c_str());
      fs::remove_all(scratch);
      return 1;
    }
    std::fprintf(stderr, "%d worker(s): %.2f s, %.3f of ideal\n", workers, point->seconds,
                 point->images_per_s(o.images) / point->ideal_per_s(o.ms));
    points.push_back(*point);
  }
  fs::remove_all(scratch);
  std::printf("%s", MarkdownTable(o, points).c_str());
  if (!o.json.empty()) {
    if (Status written = WriteJson(o, points); !written.ok()) {
      std::fprintf(stderr, "error: %s\n", written.message().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace tsdsr::bench

int main(int argc, char** argv) { return tsdsr::bench::Main(argc, argv); }

// tsdsr-split-bench: one large image on 1 worker against the same image split over N idle workers
// (dispatcher/pool/image_splitter.h). For each pool size it starts a real tsdsr-dispatcher with N local workers on
// the simulated model (simulated:MS, a sleep per process_size tile, no CPU), sends the image to POST /upscale
// --repeat times one after the other, and reports the median seconds and the speed-up over one worker, with the
// workers that answered (X-Worker). See README.md.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/cli.h"
#include "tests/dispatcher_process.h"

namespace tsdsr::bench {
namespace {

namespace fs = std::filesystem;

struct SplitBenchOptions {
  std::vector<int> workers = {1, 4};
  int ms = 20;  // simulated time per tile
  int width = 1920;
  int height = 1080;
  int repeat = 3;
  std::string json;
  std::string dispatcher;
};

struct SplitPoint {
  int workers = 0;
  double seconds = 0;  // median
  std::string answered_by;
};

Result<SplitPoint> RunPoint(const SplitBenchOptions& o, int workers, const std::string& png, const std::string& dir) {
  testing::DispatcherProcessOptions start;
  start.program = o.dispatcher;
  start.port_file = dir + "/port-" + std::to_string(workers);
  start.workers = workers;
  start.extra_flags = {"--model", "simulated:" + std::to_string(o.ms)};
  start.http_timeout = std::chrono::minutes(10);
  TSDSR_ASSIGN_OR_RETURN(auto process, testing::DispatcherProcess::Start(start));
  SplitPoint p;
  p.workers = workers;
  std::vector<double> seconds;
  for (int i = 0; i < o.repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    TSDSR_ASSIGN_OR_RETURN(client::HttpResponse r, process->http().PostRaw("/upscale?upscale=2", "image/png", png));
    if (r.status != 200) return Status::Internal("POST /upscale answered " + std::to_string(r.status) + ": " + r.body);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    p.answered_by = r.Header("x-worker");
  }
  std::sort(seconds.begin(), seconds.end());
  p.seconds = seconds[seconds.size() / 2];
  process->Terminate(std::chrono::seconds(30));
  return p;
}

int Main(int argc, char** argv) {
  SplitBenchOptions o;
  CLI::App app("tsdsr-split-bench: one large image on 1 worker and split over N.");
  app.add_option("--workers", o.workers, "Pool sizes, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--ms", o.ms, "Simulated time per tile, ms")->capture_default_str();
  app.add_option("--width", o.width, "Input width")->capture_default_str();
  app.add_option("--height", o.height, "Input height")->capture_default_str();
  app.add_option("--repeat", o.repeat, "Requests per pool size (median)")->capture_default_str();
  app.add_option("--json", o.json, "Also write the results as JSON to this file");
  app.add_option("--dispatcher", o.dispatcher, "tsdsr-dispatcher to run (default: beside this program)");
  if (auto exit_code = FinishCommandLine(ParseCommandLine(app, ArgsOf(argc, argv)), [] { return Status::Ok(); })) {
    return *exit_code;
  }
  if (o.dispatcher.empty()) o.dispatcher = ProgramDir() + "/tsdsr-dispatcher";
  const std::string dir = (fs::temp_directory_path() / ("tsdsr-split-bench-" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  cv::Mat image(o.height, o.width, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<unsigned char> png;
  cv::imencode(".png", image, png);
  std::vector<SplitPoint> points;
  Status status;
  for (int workers : o.workers) {
    auto point = RunPoint(o, workers, std::string(png.begin(), png.end()), dir);
    if (!point.ok()) {
      status = point.status();
      break;
    }
    points.push_back(*point);
  }
  fs::remove_all(dir);
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("| workers | seconds | speed-up | answered by |\n| ---: | ---: | ---: | --- |\n");
  nlohmann::json out = nlohmann::json::array();
  for (const SplitPoint& p : points) {
    const double speedup = points.front().seconds / p.seconds;
    std::printf("| %d | %.2f | %.2f | %s |\n", p.workers, p.seconds, speedup, p.answered_by.c_str());
    out.push_back({{"workers", p.workers}, {"seconds", p.seconds}, {"speedup", speedup}, {"answered_by", p.answered_by},
                   {"ms_per_tile", o.ms}, {"width", o.width}, {"height", o.height}});
  }
  if (!o.json.empty()) std::ofstream(o.json) << out.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace tsdsr::bench

int main(int argc, char** argv) { return tsdsr::bench::Main(argc, argv); }

// tsdsr-video-bench: how fast a video job goes through the pool. (a) For each pool size N it starts a real
// tsdsr-dispatcher with N local workers on the simulated model (simulated:MS: a sleep per tile, no CPU), submits
// one clip of small frames (one tile each, so a frame = MS on a worker) to POST /jobs, follows it to the end, and
// reports frames per second against the ideal N × 1000 / MS, with the workers' own decode and encode time per
// frame. (c) Then the same clip, and one of larger frames (--model-frames), through one worker running the default
// model (builtin:best) at ×2 on the CPU: seconds per frame. See README.md.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "common/cli.h"
#include "tests/dispatcher_process.h"
#include "video/segment_encoder.h"

namespace tsdsr::bench {
namespace {

namespace fs = std::filesystem;

struct BenchOptions {
  std::vector<int> workers = {1, 2, 4};
  int ms = 20;               // simulated time per tile, and so per frame
  int frames = 300;          // of the clip
  int width = 64;            // small frames: one tile at process_size 64
  int height = 36;
  double chunk_seconds = 1;  // --chunk-seconds of the dispatcher
  bool model = true;         // (c): the clip through the default model
  int model_frames = 30;     // and a clip of larger frames of this length; 0 skips it
  int model_width = 320;
  int model_height = 180;
  std::string json;
  std::string dispatcher;
};

struct Point {
  std::string model;
  int workers = 0;
  int frames = 0;
  double seconds = 0;   // submission to succeeded
  double ideal_s = 0;   // 0 when there is no ideal (a real model)
  nlohmann::json worker_ms;  // per frame: decode, model, encode
  int chunks = 0;
};


// A clip of `frames` noisy frames at 30000/1001 fps, H.264 in MP4 with a keyframe every second, at `path`.
Status MakeClip(const std::string& path, int frames, int width, int height) {
  video::EncodeOptions options;
  options.codec = "h264";
  options.preset = "veryfast";
  options.keyframe_interval = 30;
  video::SegmentFormat format{width, height, {1, 30000}, {30000, 1001}, {1, 1}, {}};
  TSDSR_ASSIGN_OR_RETURN(auto encoder, video::SegmentEncoder::Create(options, format, path));
  cv::Mat frame(height, width, CV_8UC3);
  for (int i = 0; i < frames; ++i) {
    cv::randu(frame, cv::Scalar::all(0), cv::Scalar::all(255));
    TSDSR_RETURN_IF_ERROR(encoder->Add(frame, std::int64_t{i} * 1001));
  }
  return encoder->Finish().status();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Submits `clip` to the dispatcher and follows the job to its end: the job's last JSON and the seconds it took.
Result<std::pair<nlohmann::json, double>> RunJob(client::HttpClient& http, const std::string& clip) {
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/jobs?upscale=2&process_size=64&codec=h264&preset=veryfast";
  request.parts.push_back({"file", "clip.mp4", "video/mp4", ReadFile(clip)});
  const auto start = std::chrono::steady_clock::now();
  TSDSR_ASSIGN_OR_RETURN(client::HttpResponse submitted, http.Send(request));
  if (submitted.status != 202) return Status::Internal("POST /jobs answered " + std::to_string(submitted.status));
  const std::string id = nlohmann::json::parse(submitted.body)["id"];
  while (true) {
    TSDSR_ASSIGN_OR_RETURN(client::HttpResponse polled, http.Get("/jobs/" + id));
    nlohmann::json job = nlohmann::json::parse(polled.body, nullptr, false);
    const std::string status = job.is_object() ? job.value("status", "") : "";
    if (status == "succeeded") {
      return std::make_pair(job, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (status == "failed" || status == "cancelled") return Status::Internal("the job " + status + ": " + job.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<Point> RunPoint(const BenchOptions& o, const std::string& model, int workers, const std::string& clip,
                       int frames, const std::string& scratch) {
  testing::DispatcherProcessOptions start;
  start.program = o.dispatcher;
  static int runs = 0;
  start.port_file = scratch + "/port-" + std::to_string(++runs);  // a fresh file: a stale one names a dead port
  start.workers = workers;
  start.extra_flags = {"--model", model, "--chunk-seconds", std::to_string(o.chunk_seconds)};
  start.ready_timeout = std::chrono::minutes(3);
  start.http_timeout = std::chrono::minutes(30);
  TSDSR_ASSIGN_OR_RETURN(auto process, testing::DispatcherProcess::Start(start));
  TSDSR_ASSIGN_OR_RETURN(auto run, RunJob(process->http(), clip));
  Point p;
  p.model = model;
  p.workers = workers;
  p.frames = frames;
  p.seconds = run.second;
  p.worker_ms = run.first["video"].value("worker_ms_per_frame", nlohmann::json::object());
  p.chunks = run.first["video"]["source"].value("chunks", 0);
  process->Terminate(std::chrono::seconds(30));
  return p;
}

// A worker's wall time per frame not spent decoding, upscaling or encoding: transfers, queueing, the
// dispatcher's planning and joining.
double RestMs(const Point& p) {
  const double busy = p.worker_ms.value("decode", 0.0) + p.worker_ms.value("model", 0.0) +
                      p.worker_ms.value("encode", 0.0);
  return p.seconds * 1000.0 * p.workers / p.frames - busy;
}

std::string Table(const std::vector<Point>& points) {
  std::ostringstream t;
  t << "| model | workers | frames | chunks | seconds | frames/s | of ideal | worker decode ms/frame | worker model "
       "ms/frame | worker encode ms/frame | rest ms/frame |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
       "---: |\n";
  for (const Point& p : points) {
    char row[320];
    const double fps = p.frames / p.seconds;
    std::string of_ideal = p.ideal_s > 0 ? std::to_string(p.ideal_s / p.seconds).substr(0, 5) : "-";
    std::snprintf(row, sizeof(row), "| %s | %d | %d | %d | %.2f | %.1f | %s | %.2f | %.1f | %.2f | %.2f |\n",
                  p.model.c_str(), p.workers, p.frames, p.chunks, p.seconds, fps, of_ideal.c_str(),
                  p.worker_ms.value("decode", 0.0), p.worker_ms.value("model", 0.0), p.worker_ms.value("encode", 0.0),
                  RestMs(p));
    t << row;
  }
  return t.str();
}

int Main(int argc, char** argv) {
  BenchOptions o;
  CLI::App app("tsdsr-video-bench: a video job's frames per second over pools of simulated workers.");
  app.add_option("--workers", o.workers, "Pool sizes, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--ms", o.ms, "Simulated time per frame, ms")->capture_default_str();
  app.add_option("--frames", o.frames, "Frames of the clip")->capture_default_str();
  app.add_option("--chunk-seconds", o.chunk_seconds, "The dispatcher's --chunk-seconds")->capture_default_str();
  app.add_flag("!--no-model", o.model, "Skip the default model");
  app.add_option("--model-frames", o.model_frames, "Frames of a larger clip for the default model (0: skip)")
      ->capture_default_str();
  app.add_option("--json", o.json, "Also write the results as JSON to this file");
  app.add_option("--dispatcher", o.dispatcher, "tsdsr-dispatcher to run (default: beside this program)");
  if (auto exit_code = FinishCommandLine(ParseCommandLine(app, ArgsOf(argc, argv)), [] { return Status::Ok(); })) {
    return *exit_code;
  }
  if (o.dispatcher.empty()) o.dispatcher = ProgramDir() + "/tsdsr-dispatcher";
  const std::string scratch = (fs::temp_directory_path() / ("tsdsr-video-bench-" + std::to_string(getpid()))).string();
  fs::create_directories(scratch);
  std::vector<Point> points;
  Status status = MakeClip(scratch + "/small.mp4", o.frames, o.width, o.height);
  for (int workers : o.workers) {
    if (!status.ok()) break;
    auto point = RunPoint(o, "simulated:" + std::to_string(o.ms), workers, scratch + "/small.mp4", o.frames, scratch);
    if (!point.ok()) {
      status = point.status();
      break;
    }
    point->ideal_s = double(o.frames) * o.ms / 1000.0 / workers;
    std::fprintf(stderr, "%d worker(s): %.2f s, %.3f of ideal\n", workers, point->seconds, point->ideal_s / point->seconds);
    points.push_back(*point);
  }
  if (status.ok() && o.model) {  // (c): the same clip, then larger frames
    auto same = RunPoint(o, "builtin:best", 1, scratch + "/small.mp4", o.frames, scratch);
    if (same.ok()) points.push_back(*same);
    status = same.status();
  }
  if (status.ok() && o.model && o.model_frames > 0) {
    status = MakeClip(scratch + "/model.mp4", o.model_frames, o.model_width, o.model_height);
    if (status.ok()) {
      auto point = RunPoint(o, "builtin:best", 1, scratch + "/model.mp4", o.model_frames, scratch);
      if (point.ok()) points.push_back(*point);
      status = point.status();
    }
  }
  fs::remove_all(scratch);
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("%s", Table(points).c_str());
  if (!o.json.empty()) {
    nlohmann::json out = nlohmann::json::array();
    for (const Point& p : points) {
      out.push_back({{"model", p.model}, {"workers", p.workers}, {"frames", p.frames}, {"chunks", p.chunks},
                     {"seconds", p.seconds}, {"ideal_s", p.ideal_s}, {"worker_ms_per_frame", p.worker_ms},
                     {"rest_ms_per_frame", RestMs(p)}});
    }
    std::ofstream(o.json) << out.dump(2) << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace tsdsr::bench

int main(int argc, char** argv) { return tsdsr::bench::Main(argc, argv); }

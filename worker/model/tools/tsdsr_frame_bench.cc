// tsdsr-frame-bench: seconds per video frame and peak device memory of the TSD-SR pipeline, with random weights
// of the sizes in an SD3 config folder (real sizes give the real model's speed and memory) or a real checkpoint.
// Builds with the model library alone (TSDSR_MODEL_ONLY), so it runs on a GPU machine with only CUDA LibTorch.
//   tsdsr-frame-bench [--sd3-dir DIR] [--lora-dir DIR --embeddings-dir DIR] [--device cuda:0] [--dtype bfloat16]
//                     [--width 1920 --height 1080] [--scale 2] [--process-size 128] [--tile-batch 1] [--repeat 2]
// Prints one JSON object per line: the settings, each timed frame, and the summary.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/Context.h>
#include <ATen/ops/rand.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include "worker/model/device.h"
#include "worker/model/sd3/tsdsr_model.h"
#include "worker/model/tiler.h"

namespace tsdsr::model {
namespace {

struct BenchOptions {
  std::map<std::string, std::string> flags = {
      {"sd3-dir", TSDSR_SD3_MEDIUM_CONFIGS}, {"lora-dir", ""}, {"embeddings-dir", ""}, {"device", "cpu"},
      {"dtype", "auto"}, {"width", "1920"}, {"height", "1080"}, {"scale", "2"}, {"process-size", "128"},
      {"tile-batch", "1"}, {"repeat", "2"}, {"prompt-tokens", "333"}};
  // The flag's value as an integer; throws std::invalid_argument naming the flag otherwise.
  int Int(const std::string& name) const {
    const std::string& text = flags.at(name);
    size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(text, &used);
    } catch (const std::exception&) {
    }
    if (used == 0 || used != text.size()) throw std::invalid_argument("--" + name + " takes an integer, not '" + text + "'");
    return value;
  }
};

// "--name value" pairs over the defaults; false (after a message) for an unknown name or a missing value.
bool ParseFlags(int argc, char** argv, BenchOptions& options) {
  for (int i = 1; i < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || options.flags.count(arg.substr(2)) == 0 || i + 1 >= argc) {
      std::fprintf(stderr, "tsdsr-frame-bench: bad argument '%s'; flags:", arg.c_str());
      for (const auto& [name, value] : options.flags) std::fprintf(stderr, " --%s (%s)", name.c_str(), value.c_str());
      std::fprintf(stderr, "\n");
      return false;
    }
    options.flags[arg.substr(2)] = argv[i + 1];
  }
  return true;
}

Result<c10::ScalarType> BenchDtype(const std::string& name, const c10::Device& device) {
  if (name == "auto") return device.is_cuda() ? c10::kBFloat16 : c10::kFloat;
  if (name == "float32") return c10::kFloat;
  if (name == "bfloat16") return c10::kBFloat16;
  if (name == "float16") return c10::kHalf;
  return Status::InvalidArgument("--dtype must be auto, float32, bfloat16 or float16");
}

Result<std::unique_ptr<sd3::TsdsrModel>> LoadModel(const BenchOptions& o, c10::Device device, c10::ScalarType dtype) {
  sd3::TsdsrOptions options;
  options.paths = {o.flags.at("sd3-dir"), o.flags.at("lora-dir"), o.flags.at("embeddings-dir")};
  options.scales = {o.Int("scale")};
  if (options.paths.lora_dir.empty()) return sd3::TsdsrModel::CreateRandom(options, o.Int("prompt-tokens"), device, dtype);
  return sd3::TsdsrModel::Create(options, device, dtype);
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Synchronises by reading one value back: the frame is done when its last kernel is.
double TimeFrame(const Tiler& tiler, const at::Tensor& frame, const TileJob& job, Status& error) {
  const auto start = std::chrono::steady_clock::now();
  Result<at::Tensor> out = tiler.Run(frame, job);
  if (!out.ok()) {
    error = out.status();
    return 0;
  }
  out->flatten()[0].item<float>();
  return Seconds(std::chrono::steady_clock::now() - start);
}

int Run(const BenchOptions& o) {
  auto device = ResolveDevice(o.flags.at("device"));
  auto dtype = device.ok() ? BenchDtype(o.flags.at("dtype"), *device) : Result<c10::ScalarType>(device.status());
  if (!dtype.ok()) return std::fprintf(stderr, "tsdsr-frame-bench: %s\n", dtype.status().message().c_str()), 2;
  at::manual_seed(0);
  const auto load_start = std::chrono::steady_clock::now();
  auto model = LoadModel(o, *device, *dtype);
  if (!model.ok()) return std::fprintf(stderr, "tsdsr-frame-bench: %s\n", model.status().message().c_str()), 1;
  const double load_seconds = Seconds(std::chrono::steady_clock::now() - load_start);
  const int64_t weights_bytes = DeviceMemory(*device).allocated;
  Tiler tiler((*model).get(), TilerOptions{o.Int("tile-batch"), 0});
  TileJob job;
  job.scale = o.Int("scale");
  job.process_size = o.Int("process-size");
  const at::Tensor frame = at::rand({1, 3, o.Int("height"), o.Int("width")}).to(*device);
  nlohmann::json settings = o.flags;
  settings["device_name"] = DeviceName(*device);
  settings["dtype"] = DtypeName(*dtype);
  settings["load_seconds"] = load_seconds;
  settings["weights_bytes"] = weights_bytes;
  std::printf("%s\n", settings.dump().c_str());
  std::fflush(stdout);
  Status error;
  TimeFrame(tiler, frame, job, error);  // warm-up: kernel selection, allocator pools
  ResetPeakMemory(*device);
  std::vector<double> times;
  for (int i = 0; i < o.Int("repeat") && error.ok(); ++i) {
    times.push_back(TimeFrame(tiler, frame, job, error));
    std::printf("%s\n", nlohmann::json{{"frame", i}, {"seconds", times.back()}}.dump().c_str());
    std::fflush(stdout);
  }
  if (!error.ok()) return std::fprintf(stderr, "tsdsr-frame-bench: %s\n", error.message().c_str()), 1;
  std::sort(times.begin(), times.end());
  nlohmann::json summary = {{"median_seconds_per_frame", times[times.size() / 2]},
                            {"peak_memory_bytes", PeakMemory(*device)},
                            {"output", std::to_string(o.Int("width") * job.scale) + "x" +
                                           std::to_string(o.Int("height") * job.scale)}};
  std::printf("%s\n", summary.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace tsdsr::model

int main(int argc, char** argv) {
  tsdsr::model::BenchOptions options;
  if (!tsdsr::model::ParseFlags(argc, argv, options)) return 2;
  try {
    return tsdsr::model::Run(options);
  } catch (const std::exception& e) {  // a flag that is not a number, c10::Error outside the Tiler
    std::fprintf(stderr, "tsdsr-frame-bench: %s\n", e.what());
    return 2;
  }
}

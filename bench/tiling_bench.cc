// tsdsr-tiling-bench: what the tiler costs. For each built-in model and LR size it times the network's Forward on
// the whole image against the worker's Tiler with its defaults (tiles as large as the memory budget allows,
// guarded by the model's context) and with process_size 128 squares (the path every model had before), in the
// same run, and says how far each tiled output is from the whole one. --contexts measures every model's
// context instead (the figures in builtin_catalog.cc). See README.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <c10/core/InferenceMode.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/cli.h"
#include "worker/model/builtin_catalog.h"
#include "worker/model/builtin_model.h"
#include "worker/model/tile_context.h"
#include "worker/model/tiler.h"

namespace tsdsr::bench {
namespace {

struct TilingOptions {
  std::vector<std::string> models = {"psnr-small", "thick-x4"};
  std::vector<std::string> sizes = {"256x256", "480x270", "960x540"};
  int repeat = 1;   // timed runs of each; the median counts
  int threads = 2;  // intra-op threads
  bool contexts = false;
  std::string photo = "data/photos/astronaut.png";
  std::string json;
};

// One untimed run first (oneDNN builds its kernels for each new shape), then the median of `repeat`.
double MedianSeconds(int repeat, const std::function<void()>& run) {
  run();
  std::vector<double> seconds;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// The photo resized to width×height, RGB (1, 3, h, w) float in [0, 1].
at::Tensor Input(const cv::Mat& photo, int width, int height) {
  cv::Mat resized, rgb, f;
  cv::resize(photo, resized, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  cv::cvtColor(resized, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(f, CV_32FC3, 1.0 / 255);
  return at::from_blob(f.data, {height, width, 3}, at::kFloat).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

// The largest difference from `whole`, in grey levels of the 8-bit output.
double MaxGreyDiff(const at::Tensor& tiled, const at::Tensor& whole) {
  return tiled.clamp(0, 1).sub(whole.clamp(0, 1)).abs().max().item<double>() * 255.0;
}

nlohmann::json Point(model::BuiltinModel& net, const at::Tensor& image, const TilingOptions& o) {
  const int scale = net.info().scale;
  const int w = static_cast<int>(image.size(3)), h = static_cast<int>(image.size(2));
  at::Tensor whole, tiled, squares;
  const double whole_s = MedianSeconds(o.repeat, [&] { whole = net.Forward(image, scale); });
  model::Tiler tiler(&net, model::TilerOptions{});
  model::Tiler square_tiler(&net, model::TilerOptions{4, 0, 0});
  const model::TileJob job{scale, 128, nullptr, nullptr};
  const double tiled_s = MedianSeconds(o.repeat, [&] { tiled = *tiler.Run(image, job); });
  const double squares_s = MedianSeconds(o.repeat, [&] { squares = *square_tiler.Run(image, job); });
  const auto grid = tiler.GridFor(w, h, job)->first;
  const auto square_grid = square_tiler.GridFor(w, h, job)->first;
  return {{"model", net.name()}, {"width", w}, {"height", h}, {"whole_s", whole_s}, {"tiled_s", tiled_s},
          {"squares_s", squares_s}, {"tile", std::to_string(grid.tile_width) + "x" + std::to_string(grid.tile_height)},
          {"pixel_ratio", model::TiledPixelRatio(w, h, grid)},
          {"square_pixel_ratio", model::TiledPixelRatio(w, h, square_grid)},
          {"tiled_max_grey", MaxGreyDiff(tiled, whole)}, {"squares_max_grey", MaxGreyDiff(squares, whole)}};
}

Status Run(const TilingOptions& o, nlohmann::json* out) {
  const std::string dir = model::ResolveModelsDir("");
  const cv::Mat photo = cv::imread(o.photo, cv::IMREAD_COLOR);
  if (!o.contexts && photo.empty()) return Status::NotFound("cannot read " + o.photo + " (scripts/fetch-photos)");
  std::vector<std::string> names = o.models;
  if (o.contexts && names == TilingOptions{}.models) {
    names.clear();
    for (const auto& info : model::BuiltinModels()) names.emplace_back(info.name);
  }
  c10::InferenceMode inference;
  for (const std::string& name : names) {
    TSDSR_ASSIGN_OR_RETURN(auto net, model::BuiltinModel::Create(name, dir, c10::Device(c10::kCPU), at::kFloat));
    if (o.contexts) {
      TSDSR_ASSIGN_OR_RETURN(int context, model::MeasureContext(*net, net->info().scale));
      std::printf("%-10s x%d context %d (catalogue %d)\n", name.c_str(), net->info().scale, context,
                  net->info().context);
      out->push_back({{"model", name}, {"context", context}});
      continue;
    }
    for (const std::string& size : o.sizes) {
      int w = 0, h = 0;
      if (std::sscanf(size.c_str(), "%dx%d", &w, &h) != 2 || w < 1 || h < 1) {
        return Status::InvalidArgument("a size is WxH, got " + size);
      }
      nlohmann::json p = Point(*net, Input(photo, w, h), o);
      std::printf("| %s | %dx%d | %.2f | %.2f | %.3f | %s | %.3f | %.2f | %.3f | %.3f | %.2f | %.2f |\n",
                  name.c_str(), w, h, p["whole_s"].get<double>(), p["tiled_s"].get<double>(),
                  p["tiled_s"].get<double>() / p["whole_s"].get<double>(), p["tile"].get<std::string>().c_str(),
                  p["pixel_ratio"].get<double>(), p["squares_s"].get<double>(),
                  p["squares_s"].get<double>() / p["whole_s"].get<double>(), p["square_pixel_ratio"].get<double>(),
                  p["tiled_max_grey"].get<double>(), p["squares_max_grey"].get<double>());
      std::fflush(stdout);
      out->push_back(std::move(p));
    }
  }
  return Status::Ok();
}

int Main(int argc, char** argv) {
  TilingOptions o;
  CLI::App app("tsdsr-tiling-bench: the tiler's cost against the network's forward on the whole image.");
  app.add_option("--models", o.models, "Built-in models")->delimiter(',')->capture_default_str();
  app.add_option("--sizes", o.sizes, "LR sizes WxH")->delimiter(',')->capture_default_str();
  app.add_option("--repeat", o.repeat, "Timed runs of each (median)")->capture_default_str();
  app.add_option("--threads", o.threads, "Intra-op threads")->capture_default_str();
  app.add_flag("--contexts", o.contexts, "Measure every model's context (MeasureContext) instead");
  app.add_option("--photo", o.photo, "Input photograph, resized to each size")->capture_default_str();
  app.add_option("--json", o.json, "Also write the results as JSON to this file");
  if (auto exit_code = FinishCommandLine(ParseCommandLine(app, ArgsOf(argc, argv)), [] { return Status::Ok(); })) {
    return *exit_code;
  }
  at::set_num_threads(o.threads);
  if (!o.contexts) {
    std::printf("| model | LR size | whole s | tiled s | tiled/whole | tile | pixels computed | squares s | "
                "squares/whole | pixels computed | tiled max diff | squares max diff |\n"
                "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  }
  nlohmann::json out = nlohmann::json::array();
  const Status status = Run(o, &out);
  if (!o.json.empty()) std::ofstream(o.json) << out.dump(2) << "\n";
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tsdsr::bench

int main(int argc, char** argv) { return tsdsr::bench::Main(argc, argv); }

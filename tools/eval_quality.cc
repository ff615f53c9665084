// tsdsr-eval-quality: how well each model upscales photographs. For each scale and model (bicubic, lanczos and
// every built-in network of that scale), with each colour fix: each photograph (central crop) is cut to a
// multiple of the scale (HR), shrunk by Matlab's antialiased bicubic imresize (LR), upscaled through the worker's
// own CreateUpscaler and Upscale (what a worker serves, default tiling), and compared with HR by PSNR and SSIM on
// Y with the border cropped. Flat and dark checks (eval_images.h) are measured the same way and shown apart.
// Prints Markdown tables; --json FILE also writes the figures. tools/eval-quality runs it with the repo's folders.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/imgproc.hpp>

#include "common/cli.h"
#include "tools/eval_images.h"
#include "tools/quality_metrics.h"
#include "tools/quality_report.h"
#include "worker/model/builtin_catalog.h"
#include "worker/model_factory.h"
#include "worker/upscaler.h"

namespace tsdsr::tools {
namespace {

struct EvalOptions {
  std::string photos_dir = "data/photos";  // PNGs from scripts/fetch-photos
  std::string models_dir;                  // empty: as the worker (model::ResolveModelsDir)
  std::vector<int> scales = {2, 3, 4, 8};  // upscale factors to evaluate
  std::vector<std::string> models;         // specs or built-in names; empty: all of each scale
  std::vector<std::string> color_fixes = {"none", "wavelet"};
  int crop = 0;            // central crop edge of each photograph, HR pixels; 0 = whole photograph
  int process_size = 128;  // UpscaleRequest::process_size, the worker's default
  std::string device = "cpu";
  std::string json_path;  // also write the results here when set
  bool checks = true;     // also run the flat and dark checks
  // How LR images are made: "matlab" (DownscaleBicubicAntialiased, the SR literature's), or for comparison
  // OpenCV's "area" (box average) or "cubic" (INTER_CUBIC, not antialiased: aliased LR images).
  std::string downscale = "matlab";
};

struct TestSet {
  std::vector<TestImage> photos;
  std::vector<TestImage> checks;
};

// Built-in name or spec → spec.
std::string SpecOf(const std::string& model) {
  if (model == "bicubic" || model == "lanczos" || model.find(':') != std::string::npos) return model;
  return "builtin:" + model;
}

// The specs to run at `scale`: bicubic, lanczos and the built-ins of that scale, narrowed to --models.
std::vector<std::string> ModelsAt(int scale, const EvalOptions& o) {
  std::vector<std::string> all = {"bicubic", "lanczos"};
  for (const model::BuiltinModelInfo& info : model::BuiltinModels()) {
    if (info.scale == scale) all.push_back("builtin:" + std::string(info.name));
  }
  if (o.models.empty()) return all;
  std::vector<std::string> chosen;
  for (const std::string& spec : all) {
    for (const std::string& wanted : o.models) {
      if (SpecOf(wanted) == spec) chosen.push_back(spec);
    }
  }
  return chosen;
}

// Upscales LR images. The worker's path when it offers the scale; OpenCV's resize of the whole image for
// bicubic/lanczos at scales the worker's interpolation model lacks (tiled, it equals that within a grey level).
class Runner {
 public:
  static Result<Runner> Create(const std::string& spec, const std::string& color_fix, int scale, const EvalOptions& o) {
    Runner runner;
    runner.scale_ = scale;
    runner.process_size_ = o.process_size;
    const bool interpolation = spec == "bicubic" || spec == "lanczos";
    if (interpolation && scale != 2 && scale != 4) {
      if (color_fix != "none") return Status::InvalidArgument("no colour fix outside the worker's path");
      runner.cv_interpolation_ = spec == "bicubic" ? cv::INTER_CUBIC : cv::INTER_LANCZOS4;
      runner.note_ = "cv::resize of the whole image (the worker's " + spec + " offers ×2 and ×4)";
      return runner;
    }
    worker::ModelOptions options;
    options.flags.spec = spec;
    options.flags.color_fix = color_fix;
    options.device = o.device;
    options.models_dir = o.models_dir;
    TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<worker::Upscaler> upscaler, worker::CreateUpscaler(options));
    runner.upscaler_ = std::move(upscaler);
    return runner;
  }

  Result<cv::Mat> Upscale(const cv::Mat& lr) const {
    if (!upscaler_) {
      cv::Mat out;
      cv::resize(lr, out, lr.size() * scale_, 0, 0, cv_interpolation_);
      return out;
    }
    worker::UpscaleRequest request;
    request.scale = scale_;
    request.process_size = process_size_;
    return upscaler_->Upscale(lr, request);
  }

  const std::string& note() const { return note_; }

 private:
  std::unique_ptr<worker::Upscaler> upscaler_;  // null: cv::resize
  int cv_interpolation_ = cv::INTER_CUBIC;
  int scale_ = 2;
  int process_size_ = 128;
  std::string note_;
};

cv::Mat Downscale(const cv::Mat& hr, int scale, const std::string& method) {
  if (method == "matlab") return DownscaleBicubicAntialiased(hr, scale);
  cv::Mat lr;
  cv::resize(hr, lr, hr.size() / scale, 0, 0, method == "area" ? cv::INTER_AREA : cv::INTER_CUBIC);
  return lr;
}

// HR = image cut to a multiple of the scale, LR = its downscale, output vs HR.
Result<std::vector<ImageScore>> Score(const Runner& runner, const std::vector<TestImage>& images, int scale,
                                      const std::string& downscale, double& seconds) {
  std::vector<ImageScore> scores;
  for (const TestImage& test : images) {
    const cv::Mat hr = CropToMultiple(test.image, scale);
    const cv::Mat lr = Downscale(hr, scale, downscale);
    const auto start = std::chrono::steady_clock::now();
    TSDSR_ASSIGN_OR_RETURN(cv::Mat out, runner.Upscale(lr));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    scores.push_back({test.name, MeasureQuality(out, hr, scale)});
  }
  return scores;
}

Result<EvalRow> Evaluate(const std::string& spec, const std::string& color_fix, int scale, const TestSet& set,
                         const EvalOptions& o) {
  TSDSR_ASSIGN_OR_RETURN(Runner runner, Runner::Create(spec, color_fix, scale, o));
  EvalRow row;
  row.scale = scale;
  row.model = spec;
  row.color_fix = color_fix;
  row.note = runner.note();
  TSDSR_ASSIGN_OR_RETURN(row.photos, Score(runner, set.photos, scale, o.downscale, row.seconds));
  TSDSR_ASSIGN_OR_RETURN(row.checks, Score(runner, set.checks, scale, o.downscale, row.seconds));
  return row;
}

Result<std::vector<EvalRow>> EvaluateAll(const TestSet& set, const EvalOptions& o) {
  std::vector<EvalRow> rows;
  for (int scale : o.scales) {
    const std::vector<std::string> specs = ModelsAt(scale, o);
    if (specs.empty()) std::fprintf(stderr, "x%d: none of --models offers this scale\n", scale);
    for (const std::string& spec : specs) {
      for (const std::string& fix : o.color_fixes) {
        const bool cv_only = (spec == "bicubic" || spec == "lanczos") && scale != 2 && scale != 4;
        if (cv_only && fix != "none") continue;  // no colour fix outside the worker's path
        Result<EvalRow> row = Evaluate(spec, fix, scale, set, o);
        if (!row.ok()) {
          return Status(row.status().code(),
                        "x" + std::to_string(scale) + " " + spec + " (" + fix + "): " + row.status().message());
        }
        const MeanQuality mean = MeanOf(row->photos);
        std::fprintf(stderr, "x%d %-22s %-8s %7.1f s  mean %.2f dB / %.4f\n", scale, spec.c_str(), fix.c_str(),
                     row->seconds, mean.psnr, mean.ssim);
        rows.push_back(std::move(*row));
      }
    }
  }
  return rows;
}

std::string Today() {
  const std::time_t now = std::time(nullptr);
  char text[16];
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
  return text;
}

CliOutcome ParseOptions(const std::vector<std::string>& args, EvalOptions& o) {
  CLI::App app(
      "tsdsr-eval-quality: PSNR and SSIM (Y channel) of every model on photographs downscaled with "
      "Matlab's antialiased bicubic, through the worker's upscaling path.",
      "tsdsr-eval-quality");
  app.add_option("--photos", o.photos_dir, "Folder with astronaut/chelsea/coffee/camera.png (scripts/fetch-photos)")
      ->capture_default_str();
  app.add_option("--models-dir", o.models_dir, "Built-in models folder (default: as the worker)");
  app.add_option("--scales", o.scales, "Upscale factors, e.g. 2,4 (2, 3, 4, 8)")->delimiter(',')->capture_default_str();
  app.add_option("--models", o.models, "Models to run, e.g. bicubic,psnr-small (default: all of each scale)")
      ->delimiter(',');
  app.add_option("--color-fixes", o.color_fixes, "Colour fixes to run: none, wavelet, adain")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--crop", o.crop, "Central crop edge of each photograph in HR pixels, 0 = whole")
      ->capture_default_str();
  app.add_option("--process-size", o.process_size, "LR tile edge (64-256)")->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--downscale", o.downscale,
                 "How LR images are made: matlab (antialiased bicubic), or OpenCV's "
                 "area or cubic (not antialiased), to compare")
      ->capture_default_str();
  app.add_option("--json", o.json_path, "Also write the results as JSON to this file");
  app.add_flag("!--no-checks", o.checks, "Skip the flat and dark checks");
  return ParseCommandLine(app, args);
}

Status Validate(const EvalOptions& o) {
  for (int scale : o.scales) {
    if (scale != 2 && scale != 3 && scale != 4 && scale != 8) return Status::InvalidArgument("--scales: 2, 3, 4 or 8");
  }
  for (const std::string& fix : o.color_fixes) {
    if (fix != "none" && fix != "wavelet" && fix != "adain") {
      return Status::InvalidArgument("--color-fixes: none, wavelet or adain");
    }
  }
  if (o.crop < 0) return Status::InvalidArgument("--crop must be 0 (whole) or a positive edge");
  if (o.downscale != "matlab" && o.downscale != "area" && o.downscale != "cubic") {
    return Status::InvalidArgument("--downscale: matlab, area or cubic");
  }
  return Status::Ok();
}

int Run(const EvalOptions& o) {
  Result<std::vector<TestImage>> photos = LoadPhotos(o.photos_dir, o.crop);
  Result<std::vector<TestImage>> checks = o.checks ? LoadChecks(o.photos_dir, o.crop) : std::vector<TestImage>{};
  for (const Status& s : {photos.status(), checks.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
  }
  Result<std::vector<EvalRow>> rows = EvaluateAll({*photos, *checks}, o);
  if (!rows.ok()) {
    std::fprintf(stderr, "error: %s\n", rows.status().message().c_str());
    return 1;
  }
  std::cout << "Measured " << Today() << " on " << o.device << "; "
            << (o.crop > 0 ? "central " + std::to_string(o.crop) + "×" + std::to_string(o.crop) + " crops"
                           : std::string("whole photographs"))
            << ", LR by " << o.downscale << " downscale, process_size " << o.process_size << ".\n\n"
            << MarkdownTables(*rows);
  if (!o.json_path.empty()) {
    nlohmann::json json = ToJson(*rows);
    json["date"] = Today();
    json["settings"] = {{"crop", o.crop}, {"process_size", o.process_size}, {"device", o.device}};
    std::ofstream file(o.json_path);
    file << json.dump(2) << "\n";
    if (!file) {
      std::fprintf(stderr, "error: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace tsdsr::tools

int main(int argc, char** argv) {
  tsdsr::tools::EvalOptions options;
  const tsdsr::CliOutcome outcome = tsdsr::tools::ParseOptions(tsdsr::ArgsOf(argc, argv), options);
  if (auto code = tsdsr::FinishCommandLine(outcome, [&] { return tsdsr::tools::Validate(options); })) return *code;
  return tsdsr::tools::Run(options);
}

#include "worker/model/builtin_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace tsdsr::model {

const std::vector<BuiltinModelInfo>& BuiltinModels() {
  // pixel_range: idealo's RDN (psnr-small) and the ESRGAN-style RRDNs were trained on [0, 1]; UpscalerJS feeds
  // every "rdn" model 0–255 (its getESRGANModelDefinition), which is what made those packages' samples.
  // context: MeasureContext's figure (`tsdsr-tiling-bench --contexts`, 2026-12-02: psnr-small 12, thick 8–9,
  // medium 9, slim 8) with 2 pixels to spare, the same for every scale of a family.
  static const std::vector<BuiltinModelInfo> models = {
      {"psnr-small", "esrgan-legacy", "models/psnr-small", 2, 1, 255, "assets/samples/psnr-small/result.png", 14},
      {"thick-x2", "esrgan-thick", "models/x2", 2, 1, 1, "assets/samples/2x/result.png", 11},
      {"thick-x3", "esrgan-thick", "models/x3", 3, 1, 1, "assets/samples/3x/result.png", 11},
      {"thick-x4", "esrgan-thick", "models/x4", 4, 1, 1, "assets/samples/4x/result.png", 11},
      {"thick-x8", "esrgan-thick", "models/x8", 8, 1, 1, "assets/samples/8x/result.png", 11},
      {"medium-x2", "esrgan-medium", "models/x2", 2, 255, 255, "assets/samples/2x/result.png", 11},
      {"medium-x3", "esrgan-medium", "models/x3", 3, 255, 255, "assets/samples/3x/result.png", 11},
      {"medium-x4", "esrgan-medium", "models/x4", 4, 255, 255, "assets/samples/4x/result.png", 11},
      {"medium-x8", "esrgan-medium", "models/x8", 8, 255, 255, "", 11},
      {"slim-x2", "esrgan-slim", "models/x2", 2, 255, 255, "assets/samples/2x/result.png", 10},
      {"slim-x3", "esrgan-slim", "models/x3", 3, 255, 255, "assets/samples/3x/result.png", 10},
      {"slim-x4", "esrgan-slim", "models/x4", 4, 255, 255, "assets/samples/4x/result.png", 10},
      {"slim-x8", "esrgan-slim", "models/x8", 8, 255, 255, "", 10},
  };
  return models;
}

std::string BuiltinModelNames() {
  std::string names;
  for (const BuiltinModelInfo& info : BuiltinModels()) names += (names.empty() ? "" : ", ") + std::string(info.name);
  return names;
}

Result<BuiltinModelInfo> FindBuiltinModel(std::string_view name) {
  for (const BuiltinModelInfo& info : BuiltinModels()) {
    if (info.name == name) return info;
  }
  return Status::InvalidArgument("unknown built-in model '" + std::string(name) +
                                 "'; use one of: " + BuiltinModelNames());
}

const std::vector<std::string_view>& BestBuiltinModels() {
  static const std::vector<std::string_view> best = {"psnr-small", "thick-x4"};
  return best;
}

Result<std::vector<BuiltinModelInfo>> ExpandBuiltinSpec(std::string_view argument) {
  std::vector<std::string_view> names;
  if (argument == kBestBuiltinSpec) {
    names = BestBuiltinModels();
  } else {
    for (size_t start = 0; start <= argument.size();) {
      const size_t plus = std::min(argument.find('+', start), argument.size());
      names.push_back(argument.substr(start, plus - start));
      start = plus + 1;
    }
  }
  std::vector<BuiltinModelInfo> models;
  for (std::string_view name : names) {
    TSDSR_ASSIGN_OR_RETURN(const BuiltinModelInfo info, FindBuiltinModel(name));
    for (const BuiltinModelInfo& other : models) {
      if (other.scale == info.scale) {
        return Status::InvalidArgument("built-in models " + std::string(other.name) + " and " +
                                       std::string(info.name) + " both upscale by " + std::to_string(info.scale) +
                                       "; combine models of different scales");
      }
    }
    models.push_back(info);
  }
  std::sort(models.begin(), models.end(),
            [](const BuiltinModelInfo& a, const BuiltinModelInfo& b) { return a.scale < b.scale; });
  return models;
}

std::string BuiltinPackageDir(const std::string& models_dir, std::string_view package) {
  return models_dir + "/npm/node_modules/@upscalerjs/" + std::string(package);
}

std::string BuiltinModelDir(const std::string& models_dir, const BuiltinModelInfo& info) {
  return BuiltinPackageDir(models_dir, info.package) + "/" + std::string(info.folder);
}

std::string ResolveModelsDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TSDSR_MODELS_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code error;
  const std::filesystem::path binary = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "models";  // no /proc: relative to the working directory
  return (binary.parent_path() / ".." / ".." / "models").lexically_normal().string();
}

}  // namespace tsdsr::model

// The built-in pretrained models ("--model builtin:NAME"): TensorFlow.js layers models from UpscalerJS's npm
// packages, installed by scripts/fetch-models under MODELS_DIR/npm/node_modules/@upscalerjs/. Which package
// and folder each name is, its scale, and the pixel range it is fed. Free of LibTorch.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsdsr::model {

struct BuiltinModelInfo {
  std::string_view name;     // "psnr-small"
  std::string_view package;  // npm package under @upscalerjs/, e.g. "esrgan-legacy"
  std::string_view folder;   // model.json's folder inside the package, e.g. "models/psnr-small"
  int scale = 2;             // the one upscale factor it offers
  // The value of white in what the network is fed and returns: 1 when it works on [0, 1], 255 on [0, 255].
  float pixel_range = 1;
  // The pixel range UpscalerJS feeds it, which made the package's sample image (may differ from the one
  // that serves best: UpscalerJS feeds idealo's [0, 1]-trained RDNs 0–255).
  float upscalerjs_pixel_range = 1;
  std::string_view sample;  // the package's output for assets/fixture.png, relative to the package
  // LR pixels of context the network needs around an output pixel, from MeasureContext (float32, CPU, a
  // quarter grey level; `tsdsr-tiling-bench --contexts`), with 2 pixels to spare. TileFootprint::context.
  int context = 0;
};

// Every built-in model, in the order BuiltinModelNames() lists them.
const std::vector<BuiltinModelInfo>& BuiltinModels();

// "psnr-small, thick-x2, ...": the names, for messages.
std::string BuiltinModelNames();

// The model called `name`. InvalidArgument listing the names for an unknown one.
Result<BuiltinModelInfo> FindBuiltinModel(std::string_view name);

// The argument of "builtin:" that names the best-measured model of each scale (kBestBuiltinModels), the
// default model of the worker and the dispatcher.
inline constexpr std::string_view kBestBuiltinSpec = "best";

// The models "builtin:best" serves, one per scale, chosen by tools/eval-quality's figures (README, "Quality").
const std::vector<std::string_view>& BestBuiltinModels();

// The models a "builtin:ARG" spec stands for, in scale order: ARG "best" is BestBuiltinModels(), "a+b+..." is
// those models, a single name is that model. InvalidArgument for an unknown or repeated name, or for two models
// with the same scale (a request's scale must pick one network).
Result<std::vector<BuiltinModelInfo>> ExpandBuiltinSpec(std::string_view argument);

// MODELS_DIR/npm/node_modules/@upscalerjs/PACKAGE: where scripts/fetch-models installs a package.
std::string BuiltinPackageDir(const std::string& models_dir, std::string_view package);

// The folder holding the model's model.json and weight shards.
std::string BuiltinModelDir(const std::string& models_dir, const BuiltinModelInfo& info);

// The models folder: `flag` (--models-dir) when not empty, else $TSDSR_MODELS_DIR when set, else the
// repository's models/ found from the running binary (<binary's folder>/../../models, i.e. build/bin/../../models).
// The folder need not exist.
std::string ResolveModelsDir(const std::string& flag);

}  // namespace tsdsr::model

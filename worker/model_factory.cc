#include "worker/model_factory.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/model_spec.h"
#include "worker/interpolation_model.h"
#include "worker/model/builtin_model.h"
#include "worker/model/device.h"
#include "worker/model/sd3/tsdsr_model.h"
#include "worker/model/torchscript_model.h"
#include "worker/simulated_model.h"
#include "worker/torch_upscaler.h"

namespace tsdsr::worker {
namespace {

// The TileModel of a parsed spec on `device`. ParseModelSpec only lets through kinds listed in
// common/model_spec.cc; a kind listed there but not built here is reported rather than ignored.
Result<std::unique_ptr<model::TileModel>> CreateTileModel(const ModelSpec& spec, const ModelOptions& options,
                                                          c10::Device device) {
  std::unique_ptr<model::TileModel> tile_model;
  // auto: bfloat16 on CUDA for the built-in networks (within 0.7 grey levels RMS of float32, PSNR above 51 dB:
  // builtin_model_test.cc) and for TSD-SR (SD3's activations leave float16's range in places); float32 for
  // TorchScript models, which nothing is known about.
  TSDSR_ASSIGN_OR_RETURN(const c10::ScalarType dtype,
                         model::ResolveDtype(options.flags.dtype, device, spec.kind == "builtin" || spec.kind == "tsdsr"));
  if (spec.kind == "builtin") {
    TSDSR_ASSIGN_OR_RETURN(tile_model, model::CreateBuiltinModels(
                                           spec.argument, model::ResolveModelsDir(options.models_dir), device, dtype));
  }
  if (spec.kind == "torchscript") {
    TSDSR_ASSIGN_OR_RETURN(tile_model,
                           model::TorchscriptModel::Create(spec.argument, options.flags.model_scale, device, dtype));
  }
  if (spec.kind == "tsdsr") {
    model::sd3::TsdsrOptions tsdsr;
    tsdsr.paths = {spec.argument, options.flags.lora_dir, options.flags.embeddings_dir};
    if (options.flags.latent_seed >= 0) tsdsr.sample_seed = static_cast<uint64_t>(options.flags.latent_seed);
    TSDSR_ASSIGN_OR_RETURN(tile_model, model::sd3::TsdsrModel::Create(tsdsr, device, dtype));
  }
  if (spec.kind == "bicubic") tile_model = std::make_unique<InterpolationModel>(Interpolation::kBicubic, device);
  if (spec.kind == "lanczos") tile_model = std::make_unique<InterpolationModel>(Interpolation::kLanczos, device);
  if (spec.kind == "simulated") {
    TSDSR_ASSIGN_OR_RETURN(tile_model, SimulatedModel::Create(spec.argument));
  }
  if (tile_model) return tile_model;
  return Status::InvalidArgument("model kind '" + spec.kind + "' is not supported by this worker; use one of: " +
                                 std::string(ModelSpecForms()));
}

}  // namespace

Result<std::unique_ptr<Upscaler>> CreateUpscaler(const ModelOptions& options) {
  // Cheap checks first: loading a network can take a while.
  const ModelFlags& flags = options.flags;
  TSDSR_RETURN_IF_ERROR(ValidateModelFlags(flags));
  TSDSR_ASSIGN_OR_RETURN(ModelSpec spec, ParseModelSpec(flags.spec));
  model::TilerOptions tiler_options;
  tiler_options.tile_batch = options.tile_batch;
  tiler_options.overlap = options.tile_overlap;
  tiler_options.memory_budget = std::int64_t{options.tile_memory_mb} << 20;
  TSDSR_RETURN_IF_ERROR(ValidateTilerOptions(tiler_options));
  const std::string color_fix_name =
      flags.color_fix == "auto" ? std::string(DefaultColorFix(spec.kind)) : flags.color_fix;
  TSDSR_ASSIGN_OR_RETURN(model::ColorFix color_fix, model::ParseColorFix(color_fix_name));
  TSDSR_ASSIGN_OR_RETURN(c10::Device device, model::ResolveDevice(options.device));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<model::TileModel> tile_model, CreateTileModel(spec, options, device));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<TorchUpscaler> upscaler,
                         TorchUpscaler::Create(std::move(tile_model), tiler_options, color_fix));
  TSDSR_RETURN_IF_ERROR(upscaler->Warmup());
  return std::unique_ptr<Upscaler>(std::move(upscaler));
}

}  // namespace tsdsr::worker

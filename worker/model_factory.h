// Builds the worker's Upscaler from a model spec. Free of LibTorch: the worker's main and I/O code include
// this header and compile in seconds; the LibTorch side lives in model_factory.cc and what it calls.
#pragma once

#include <memory>
#include <string>

#include "common/model_spec.h"
#include "common/status.h"
#include "worker/upscaler.h"

namespace tsdsr::worker {

struct ModelOptions {
  ModelFlags flags;               // the model and its flags (common/model_spec.h); default builtin:best
  std::string device = "cpu";    // cpu, cuda or cuda:N
  int tile_batch = 4;            // tiles per model call
  int tile_overlap = 0;          // LR pixels shared by neighbouring tiles, 0..32; 0 = max(8, process_size/8)
  int tile_memory_mb = 2048;     // model::TilerOptions::memory_budget, in MiB
  // Where builtin:NAME models are installed (scripts/fetch-models); empty = $TSDSR_MODELS_DIR, else the
  // repository's models/ found from the binary (model::ResolveModelsDir).
  std::string models_dir;
};

// Builds the model named by options.flags.spec on options.device and runs it once on a small image, so the
// returned Upscaler is ready for its first job. Errors: InvalidArgument for an unknown spec (the message lists
// the supported ones) or bad tile settings; FailedPrecondition for a device that is not there; the warm-up's
// error otherwise. The caller owns the result.
Result<std::unique_ptr<Upscaler>> CreateUpscaler(const ModelOptions& options);

}  // namespace tsdsr::worker

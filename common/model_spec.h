// Model specs as users write them (--model): "bicubic", "lanczos", "builtin:NAME", "torchscript:PATH",
// "tsdsr:DIR", "simulated:MS". Parsed in one place so the dispatcher can refuse a bad spec at start-up and
// the worker builds exactly what was checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr {

struct ModelSpec {
  std::string kind;      // bicubic, lanczos, builtin, torchscript, tsdsr, simulated
  std::string argument;  // the part after ':', empty for bicubic/lanczos
};

// Splits and checks the syntax of a spec. InvalidArgument listing the accepted forms for an unknown kind,
// a missing argument, or an argument where none belongs. Files named by the spec are not opened here.
Result<ModelSpec> ParseModelSpec(std::string_view spec);

// "bicubic, lanczos, builtin:NAME, torchscript:PATH, tsdsr:DIR, simulated:MS"
std::string_view ModelSpecForms();

// Colour fixes a worker can apply to any model's output (--color-fix): "auto" (DefaultColorFix of the model),
// "none", "wavelet", "adain".
bool IsColorFix(std::string_view name);

// What "--color-fix auto" means for a model kind: "wavelet" for tsdsr (as TSD-SR's own inference does) and for the
// built-in networks (it removes psnr-small's brightness bias on flat and dark content and gains 0.3 dB at ×2;
// README, "Quality"), "none" for the others (interpolation, and TorchScript models nothing is known about).
std::string_view DefaultColorFix(std::string_view kind);

// The model flags of a process (worker, or dispatcher for its local workers).
struct ModelFlags {
  std::string spec = "builtin:best";  // --model; the default: the best built-in network per scale
  int model_scale = 0;         // --model-scale: torchscript:PATH only
  std::string color_fix = "auto";  // --color-fix
  std::string lora_dir;        // --lora-dir: tsdsr:SD3_DIR only
  std::string embeddings_dir;  // --embeddings-dir: tsdsr:SD3_DIR only
  std::string dtype = "auto";  // --dtype: auto, float32, float16 or bfloat16 (networks; interpolation is float32)
  std::int64_t latent_seed = -1;  // --latent-seed: tsdsr:SD3_DIR only; -1 = the posterior mean, else a sample
};

// Checks the flags together: the spec parses; --model-scale is 1..16 for torchscript:PATH, which needs it, and 0
// (unset) otherwise; --lora-dir and --embeddings-dir are given for tsdsr:SD3_DIR, which needs them, and for
// nothing else; --latent-seed is -1 or a seed ≥ 0, the latter for tsdsr:SD3_DIR only; --color-fix is IsColorFix;
// --dtype is auto, float32, float16 or bfloat16 (whether the device can run it is the worker's check).
// InvalidArgument naming the flag otherwise. Files are not opened here.
Status ValidateModelFlags(const ModelFlags& flags);

}  // namespace tsdsr

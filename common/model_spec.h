// Model specs as users write them (--model): "bicubic", "lanczos", "builtin:NAME", "torchscript:PATH",
// "tsdsr:DIR", "simulated:MS". Parsed in one place so the dispatcher can refuse a bad spec at start-up and
// the worker builds exactly what was checked.
#pragma once

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

// Colour fixes a worker can apply to any model's output (--color-fix): "none", "wavelet", "adain".
bool IsColorFix(std::string_view name);

// The model flags of a process, checked together: `spec` parses; `model_scale` (--model-scale) is 1..16 for
// torchscript:PATH, which needs it, and 0 (unset) for every other kind; `color_fix` is IsColorFix. InvalidArgument
// naming the flag otherwise.
Status ValidateModelFlags(std::string_view spec, int model_scale, std::string_view color_fix);

}  // namespace tsdsr

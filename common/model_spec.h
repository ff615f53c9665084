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

}  // namespace tsdsr

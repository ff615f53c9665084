#include "common/model_spec.h"

#include <array>

namespace tsdsr {
namespace {

struct Kind {
  std::string_view name;
  bool takes_argument;
};

// Kinds the worker can build. A kind is listed here only once its worker code exists.
constexpr std::array<Kind, 4> kKinds = {
    {{"bicubic", false}, {"lanczos", false}, {"builtin", true}, {"simulated", true}}};

}  // namespace

std::string_view ModelSpecForms() { return "bicubic, lanczos, builtin:NAME, simulated:MS"; }

Result<ModelSpec> ParseModelSpec(std::string_view spec) {
  ModelSpec parsed;
  size_t colon = spec.find(':');
  parsed.kind = std::string(spec.substr(0, colon));
  if (colon != std::string_view::npos) parsed.argument = std::string(spec.substr(colon + 1));
  for (const Kind& kind : kKinds) {
    if (kind.name != parsed.kind) continue;
    if (kind.takes_argument && parsed.argument.empty()) {
      return Status::InvalidArgument("model spec '" + std::string(spec) + "' needs an argument after ':'");
    }
    if (!kind.takes_argument && colon != std::string_view::npos) {
      return Status::InvalidArgument("model spec '" + std::string(spec) + "' takes no argument");
    }
    return parsed;
  }
  return Status::InvalidArgument("unknown model '" + std::string(spec) + "'; use one of: " +
                                 std::string(ModelSpecForms()));
}

bool IsColorFix(std::string_view name) { return name == "none" || name == "wavelet" || name == "adain"; }

Status ValidateModelFlags(std::string_view spec, int model_scale, std::string_view color_fix) {
  Result<ModelSpec> parsed = ParseModelSpec(spec);
  if (!parsed.ok()) return Status::InvalidArgument("--model: " + parsed.status().message());
  const bool needs_scale = parsed->kind == "torchscript";
  if (needs_scale && (model_scale < 1 || model_scale > 16)) {
    return Status::InvalidArgument("--model-scale must be within 1..16 for a torchscript:PATH model (the factor "
                                   "its network upscales by)");
  }
  if (!needs_scale && model_scale != 0) {
    return Status::InvalidArgument("--model-scale applies only to torchscript:PATH models; '" + std::string(spec) +
                                   "' knows its own scales");
  }
  if (!IsColorFix(color_fix)) return Status::InvalidArgument("--color-fix must be none, wavelet or adain");
  return Status::Ok();
}

}  // namespace tsdsr

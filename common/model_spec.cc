#include "common/model_spec.h"

#include <array>

namespace tsdsr {
namespace {

struct Kind {
  std::string_view name;
  bool takes_argument;
};

// Kinds the worker can build. A kind is listed here only once its worker code exists.
constexpr std::array<Kind, 6> kKinds = {{{"bicubic", false},
                                         {"lanczos", false},
                                         {"builtin", true},
                                         {"torchscript", true},
                                         {"tsdsr", true},
                                         {"simulated", true}}};

}  // namespace

std::string_view ModelSpecForms() {
  return "bicubic, lanczos, builtin:NAME, torchscript:PATH, tsdsr:SD3_DIR, simulated:MS";
}

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

bool IsColorFix(std::string_view name) {
  return name == "auto" || name == "none" || name == "wavelet" || name == "adain";
}

std::string_view DefaultColorFix(std::string_view kind) {
  return kind == "tsdsr" || kind == "builtin" ? "wavelet" : "none";
}

namespace {

// InvalidArgument unless `value` is set exactly when the kind needs it.
Status CheckKindFlag(const std::string& flag, bool set, bool needed, const std::string& spec, const char* kind_form) {
  if (needed && !set) return Status::InvalidArgument("--" + flag + " is required with " + kind_form);
  if (!needed && set) {
    return Status::InvalidArgument("--" + flag + " applies only to " + kind_form + " models, not '" + spec + "'");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateModelFlags(const ModelFlags& flags) {
  Result<ModelSpec> parsed = ParseModelSpec(flags.spec);
  if (!parsed.ok()) return Status::InvalidArgument("--model: " + parsed.status().message());
  if (parsed->kind == "torchscript" && (flags.model_scale < 1 || flags.model_scale > 16)) {
    return Status::InvalidArgument("--model-scale must be within 1..16 for a torchscript:PATH model (the factor "
                                   "its network upscales by)");
  }
  if (parsed->kind != "torchscript" && flags.model_scale != 0) {
    return Status::InvalidArgument("--model-scale applies only to torchscript:PATH models; '" + flags.spec +
                                   "' knows its own scales");
  }
  const bool tsdsr = parsed->kind == "tsdsr";
  TSDSR_RETURN_IF_ERROR(CheckKindFlag("lora-dir", !flags.lora_dir.empty(), tsdsr, flags.spec, "tsdsr:SD3_DIR"));
  TSDSR_RETURN_IF_ERROR(
      CheckKindFlag("embeddings-dir", !flags.embeddings_dir.empty(), tsdsr, flags.spec, "tsdsr:SD3_DIR"));
  if (flags.latent_seed < -1) return Status::InvalidArgument("--latent-seed must be -1 (the posterior mean) or a seed ≥ 0");
  if (flags.latent_seed >= 0 && !tsdsr) {
    return Status::InvalidArgument("--latent-seed applies only to tsdsr:SD3_DIR models, not '" + flags.spec + "'");
  }
  if (!IsColorFix(flags.color_fix)) return Status::InvalidArgument("--color-fix must be auto, none, wavelet or adain");
  if (flags.dtype != "auto" && flags.dtype != "float32" && flags.dtype != "float16" && flags.dtype != "bfloat16") {
    return Status::InvalidArgument("--dtype must be auto, float32, float16 or bfloat16");
  }
  return Status::Ok();
}

}  // namespace tsdsr

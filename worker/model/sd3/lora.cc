#include "worker/model/sd3/lora.h"

#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include <ATen/ops/mm.h>
#include <c10/util/Exception.h>

#include "worker/model/tiler.h"

namespace tsdsr::model::sd3 {
namespace {

// One adapted module: its two LoRA tensors and the keys they came from.
struct LoraPair {
  std::string a_key, b_key;
  at::Tensor a, b;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ShapeText(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

Status Bad(const std::string& key, const std::string& what) {
  return Status::InvalidArgument("LoRA key '" + key + "': " + what);
}

// Sorts the LoRA keys by module ("<module>.lora_A[.<adapter>].weight" after the prefix).
Result<std::map<std::string, LoraPair>> GroupByModule(const TensorMap& lora, const LoraOptions& options) {
  std::map<std::string, LoraPair> modules;
  for (const auto& [key, tensor] : lora) {
    if (key.compare(0, options.prefix.size(), options.prefix) != 0) {
      return Bad(key, "does not start with \"" + options.prefix + "\"");
    }
    const std::string rest = key.substr(options.prefix.size());
    std::string module;
    bool is_a = false;
    for (const char* which : {"A", "B"}) {
      for (const std::string& suffix : {std::string(".lora_") + which + ".weight",
                                        std::string(".lora_") + which + "." + options.adapter + ".weight"}) {
        if (module.empty() && EndsWith(rest, suffix) && rest.size() > suffix.size()) {
          module = rest.substr(0, rest.size() - suffix.size());
          is_a = which[0] == 'A';
        }
      }
    }
    if (module.empty()) return Bad(key, "is not a lora_A or lora_B weight");
    if (!at::isFloatingType(tensor.scalar_type())) return Bad(key, "is not a floating-point tensor");
    LoraPair& pair = modules[module];
    std::string& slot = is_a ? pair.a_key : pair.b_key;
    if (!slot.empty()) return Bad(key, "module '" + module + "' already has it as '" + slot + "'");
    slot = key;
    (is_a ? pair.a : pair.b) = tensor;
  }
  return modules;
}

// Checks one module's A and B against its base weight W (2-D Linear or 4-D Conv2d).
Status CheckPair(const std::string& module, const LoraPair& pair, const TensorMap& base, const LoraOptions& options) {
  if (pair.b_key.empty()) return Bad(pair.a_key, "has no matching lora_B");
  if (pair.a_key.empty()) return Bad(pair.b_key, "has no matching lora_A");
  const std::string w_key = module + ".weight";
  const auto w = base.find(w_key);
  if (w == base.end()) return Bad(pair.a_key, "the base model has no weight '" + w_key + "'");
  const at::Tensor& weight = w->second;
  if (!at::isFloatingType(weight.scalar_type())) return Bad(pair.a_key, "base weight '" + w_key + "' is not floating");
  const at::Tensor& a = pair.a;
  const at::Tensor& b = pair.b;
  const int64_t rank = a.dim() > 0 ? a.size(0) : 0;
  const auto misfit = [&](const std::string& key, const at::Tensor& t) {
    return Bad(key, "shape " + ShapeText(t) + " does not fit base weight '" + w_key + "' " + ShapeText(weight) +
                        " (A " + ShapeText(a) + ", B " + ShapeText(b) + ")");
  };
  if (weight.dim() == 2) {
    if (a.dim() != 2 || a.size(1) != weight.size(1)) return misfit(pair.a_key, a);
    if (b.dim() != 2 || b.size(0) != weight.size(0) || b.size(1) != rank) return misfit(pair.b_key, b);
  } else if (weight.dim() == 4) {
    if (a.dim() != 4 || a.sizes().slice(1) != weight.sizes().slice(1)) return misfit(pair.a_key, a);
    if (b.dim() != 4 || b.size(0) != weight.size(0) || b.size(1) != rank || b.size(2) != 1 || b.size(3) != 1) {
      return misfit(pair.b_key, b);
    }
  } else {
    return Bad(pair.a_key, "base weight '" + w_key + "' " + ShapeText(weight) + " is neither Linear nor Conv2d");
  }
  if (rank == 0) return Bad(pair.a_key, "has rank 0");
  if (options.rank > 0 && rank != options.rank) {
    return Bad(pair.a_key, "has rank " + std::to_string(rank) + ", expected " + std::to_string(options.rank));
  }
  return Status::Ok();
}

// W + (alpha / rank) · B·A, in float32, back in W's dtype and on W's device.
at::Tensor Merged(const at::Tensor& weight, const LoraPair& pair, double alpha) {
  const at::Tensor a = pair.a.to(weight.device(), at::kFloat).flatten(1);  // (r, in·kh·kw)
  const at::Tensor b = pair.b.to(weight.device(), at::kFloat).flatten(1);  // (out, r)
  const double scale = alpha / static_cast<double>(a.size(0));
  const at::Tensor delta = at::mm(b, a).view(weight.sizes());
  return weight.to(at::kFloat).add(delta, scale).to(weight.scalar_type());
}

}  // namespace

Status MergeLora(const TensorMap& lora, const LoraOptions& options, TensorMap& base) {
  if (!(options.alpha > 0)) return Status::InvalidArgument("LoRA: alpha must be > 0");
  TSDSR_ASSIGN_OR_RETURN(auto modules, GroupByModule(lora, options));
  for (const auto& [module, pair] : modules) TSDSR_RETURN_IF_ERROR(CheckPair(module, pair, base, options));
  try {
    std::vector<std::pair<std::string, at::Tensor>> merged;  // all computed first: all or nothing
    for (const auto& [module, pair] : modules) {
      const std::string w_key = module + ".weight";
      merged.emplace_back(w_key, Merged(base.at(w_key), pair, options.alpha));
    }
    for (auto& [key, weight] : merged) base[key] = std::move(weight);
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "merging the LoRA");
  }
  return Status::Ok();
}

}  // namespace tsdsr::model::sd3

// Merging a PEFT LoRA into base weights at load: W += (alpha / rank) · B·A for every adapted module.
//
// TSD-SR's files (transformer.safetensors, vae.safetensors) are written by diffusers' save_lora_weights from
// peft's get_peft_model_state_dict, which drops the adapter name: keys are "transformer.<module>.lora_A.weight"
// and "transformer.<module>.lora_B.weight" in both files (the VAE's modules, e.g. "encoder.conv_in", are saved
// under the same "transformer." prefix), with rank 64 and lora_alpha 64 (scale 1). Keys that keep the adapter name
// ("<module>.lora_A.default.weight", peft's in-model state_dict) are accepted too.
// Linear: A (r, in), B (out, r), W (out, in). Conv2d: A (r, in, kh, kw), B (out, r, 1, 1), W (out, in, kh, kw).
#pragma once

#include <string>

#include "common/status.h"
#include "worker/model/sd3/safetensors.h"

namespace tsdsr::model::sd3 {

// TSD-SR's LoRA: prefix of every key in both files, rank and alpha of both adapters (test/test_tsdsr.py).
inline constexpr char kTsdsrLoraPrefix[] = "transformer.";
inline constexpr int64_t kTsdsrLoraRank = 64;
inline constexpr double kTsdsrLoraAlpha = 64.0;

struct LoraOptions {
  std::string prefix;  // every LoRA key starts with it; stripped to find the base module, e.g. "transformer."
  double alpha = 0;    // peft's lora_alpha: the update is scaled by alpha / rank; must be > 0
  int64_t rank = 0;    // when > 0, every A must have this many rows; 0 takes each module's rank from its A
  std::string adapter = "default";  // the adapter name a key may carry ("lora_A.default.weight")
};

// Adds (alpha / rank) · B·A to `base["<module>.weight"]` for every module with a lora_A/lora_B pair in `lora`.
// The sum is computed in float32 and stored back in the base weight's dtype and device (a new tensor replaces the
// entry; tensors shared with other maps are not modified). All or nothing: every key is checked before any weight
// changes, and InvalidArgument names the offending key for a key without `prefix`, a key that is not a lora_A/B
// weight (e.g. a bias or DoRA magnitude), A without B or B without A, a missing base weight, a base weight that is
// neither 2-D nor 4-D, shapes that do not fit (A, B and W above, equal ranks, `rank`), or a non-floating tensor.
// `lora` is not modified. Not thread-safe with other users of `base`.
Status MergeLora(const TensorMap& lora, const LoraOptions& options, TensorMap& base);

}  // namespace tsdsr::model::sd3

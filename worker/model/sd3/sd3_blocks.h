// The building blocks of the SD3 MMDiT transformer (diffusers 0.29.2): adaptive layer norms and the joint
// transformer block, in which image tokens and context (text) tokens keep separate weights but attend together.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>

#include "worker/model/sd3/sd3_transformer_weights.h"

namespace tsdsr::model::sd3 {

// LayerNorm over the last dimension without affine parameters, eps 1e-6 (diffusers' norm layers in SD3).
at::Tensor LayerNormNoAffine(const at::Tensor& x);

// x·(1 + scale) + shift, with scale and shift (N, C) broadcast over the tokens of x (N, S, C).
at::Tensor Modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale);

// AdaLayerNormContinuous (norm_out, and norm1_context of the last block): the linear layer maps silu(temb) to
// (scale, shift) — in that order — and the output is Modulate(LayerNormNoAffine(x), shift, scale).
at::Tensor AdaNormContinuous(const Linear& linear, const at::Tensor& x, const at::Tensor& silu_temb);

// One JointTransformerBlock with its weights, in the run's dtype and device. Read-only once built.
class JointBlock {
 public:
  // Takes the weights under `prefix` (e.g. "transformer_blocks.3") for a block `dim` wide with `heads` heads:
  // norm1, norm1_context, attn.{to_q,to_k,to_v,add_q_proj,add_k_proj,add_v_proj,to_out.0}, ff and, unless
  // `context_pre_only` (the last block), attn.to_add_out and ff_context. Missing or misshaped weights are
  // recorded in `taker` (see WeightTaker::Finish); throws c10::Error only if converting a weight fails.
  static JointBlock Take(WeightTaker& taker, const std::string& prefix, int64_t dim, int64_t heads,
                         bool context_pre_only);

  // Runs the block on image tokens `x` (N, S, dim) and context tokens `context` (N, L, dim), conditioned on
  // silu(temb) (N, dim). Returns (x, context) updated; context is undefined for a context_pre_only block (its
  // context output is never used, so it is not computed). Throws c10::Error on a shape mismatch. Thread-safe.
  std::pair<at::Tensor, at::Tensor> Forward(const at::Tensor& x, const at::Tensor& context,
                                            const at::Tensor& silu_temb) const;

  bool context_pre_only() const { return context_pre_only_; }

 private:
  JointBlock() = default;

  // The context stream's update after attention (residual, gated MLP), for a full block.
  at::Tensor UpdateContext(const at::Tensor& context, const at::Tensor& attended, const at::Tensor& modulation) const;

  bool context_pre_only_ = false;
  int64_t heads_ = 1;
  Linear norm1_;          // silu(temb) → 6·dim: shift, scale, gate (attention); shift, scale, gate (MLP)
  Linear norm1_context_;  // the same for the context, or → 2·dim (scale, shift) when context_pre_only
  Linear qkv_;            // to_q, to_k, to_v fused: dim → 3·dim
  Linear context_qkv_;    // add_q_proj, add_k_proj, add_v_proj fused (only k, v when context_pre_only)
  Linear out_;            // to_out.0
  Linear context_out_;    // to_add_out (not when context_pre_only)
  Linear ff_in_;          // ff.net.0.proj: dim → 4·dim, then GELU (tanh)
  Linear ff_out_;         // ff.net.2: 4·dim → dim
  Linear context_ff_in_;  // ff_context.* (not when context_pre_only)
  Linear context_ff_out_;
};

}  // namespace tsdsr::model::sd3

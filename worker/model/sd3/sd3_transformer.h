// SD3Transformer: the MMDiT of Stable Diffusion 3, a re-implementation in LibTorch of diffusers 0.29.2's
// SD3Transformer2DModel forward, built from its config.json and its weights in diffusers' layout (the
// transformer/ folder of an SD3 checkpoint, with a LoRA merged in beforehand if any). TSD-SR runs it once per
// tile, at timestep 1000, to predict the velocity that takes a noisy latent to a clean one.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <c10/core/TensorOptions.h>

#include "common/status.h"
#include "worker/model/sd3/diffusers_config.h"
#include "worker/model/sd3/safetensors.h"
#include "worker/model/sd3/sd3_blocks.h"
#include "worker/model/sd3/sd3_transformer_weights.h"

namespace tsdsr::model::sd3 {

class SD3Transformer {
 public:
  // Builds the network that `config` describes from `weights` (consumed: diffusers' state-dict names, any
  // floating dtype, any device), converted to `dtype` on `device`. Every weight the network needs must be there
  // with its shape; "pos_embed.pos_embed" (the position table diffusers saves) is used when present and computed
  // with SincosPosEmbed2d otherwise. The last block is context_pre_only, as in diffusers. Errors:
  // InvalidArgument for a config this network cannot be (naming the field), a non-floating dtype, a missing or
  // misshaped weight (naming the key) or weights no layer takes (naming them); ResourceExhausted when the
  // weights do not fit on the device; Internal for another LibTorch error.
  static Result<std::unique_ptr<SD3Transformer>> Create(const DiffusersTransformerConfig& config, TensorMap weights,
                                                        c10::ScalarType dtype, c10::Device device);
  // The network of `config` with random weights (WeightTaker::Random): real sizes and speed, no checkpoint.
  // Errors as Create.
  static Result<std::unique_ptr<SD3Transformer>> CreateRandom(const DiffusersTransformerConfig& config,
                                                              c10::ScalarType dtype, c10::Device device);

  // The forward pass. hidden_states (N, in_channels, H, W): the latent, H and W multiples of patch_size with
  // H/patch_size and W/patch_size at most pos_embed_max_size; timestep (N) or a single value for all, any
  // real dtype; encoder_hidden_states (N, L, joint_attention_dim), any L; pooled_projections
  // (N, pooled_projection_dim). Inputs are converted to the model's dtype and device. Returns
  // (N, out_channels, H, W) in the model's dtype on its device. Runs under InferenceMode. Throws c10::Error
  // naming the input for a shape that does not fit (and for LibTorch failures such as out of memory).
  // Thread-safe: it only reads the weights.
  at::Tensor Forward(const at::Tensor& hidden_states, const at::Tensor& timestep,
                     const at::Tensor& encoder_hidden_states, const at::Tensor& pooled_projections) const;

  const DiffusersTransformerConfig& config() const { return config_; }
  // num_attention_heads · attention_head_dim: the width of every token inside the network.
  int64_t inner_dim() const { return inner_dim_; }
  c10::ScalarType dtype() const { return options_.dtype().toScalarType(); }
  c10::Device device() const { return options_.device(); }

 private:
  SD3Transformer(const DiffusersTransformerConfig& config, const c10::TensorOptions& options);
  // Create and CreateRandom: `make_taker` gives the taker for the options.
  template <typename MakeTaker>
  static Result<std::unique_ptr<SD3Transformer>> Build(const DiffusersTransformerConfig& config,
                                                       c10::ScalarType dtype, c10::Device device,
                                                       MakeTaker make_taker);
  void TakeWeights(WeightTaker& taker);
  void CheckInputs(const at::Tensor& hidden_states, const at::Tensor& timestep, const at::Tensor& encoder_hidden_states,
                   const at::Tensor& pooled_projections) const;
  // temb (N, inner_dim): CombinedTimestepTextProjEmbeddings.
  at::Tensor TimeTextEmbedding(const at::Tensor& timestep, const at::Tensor& pooled_projections) const;

  DiffusersTransformerConfig config_;
  c10::TensorOptions options_;
  int64_t inner_dim_ = 0;
  int64_t max_size_ = 0;     // pos_embed_max_size
  at::Tensor patch_weight_;  // pos_embed.proj: (inner, in_channels, p, p)
  at::Tensor patch_bias_;
  at::Tensor pos_table_;     // (pos_embed_max_size², inner), cropped per input
  Linear time_in_;           // time_text_embed.timestep_embedder.linear_1: 256 → inner, then SiLU
  Linear time_out_;          // ...linear_2: inner → inner
  Linear text_in_;           // time_text_embed.text_embedder.linear_1: pooled_projection_dim → inner, then SiLU
  Linear text_out_;          // ...linear_2
  Linear context_embedder_;  // joint_attention_dim → caption_projection_dim (= inner)
  std::vector<JointBlock> blocks_;
  Linear norm_out_;  // AdaLayerNormContinuous: inner → 2·inner (scale, shift)
  Linear proj_out_;  // inner → patch_size²·out_channels
};

// OK when `config` describes a network SD3Transformer can build, else InvalidArgument naming the field: every
// size positive, pos_embed_max_size set (not null), num_attention_heads·attention_head_dim a multiple of 4 (for
// the sin-cos table) and equal to caption_projection_dim (context tokens join the image tokens' attention),
// sample_size ≥ patch_size.
Status ValidateTransformerConfig(const DiffusersTransformerConfig& config);

}  // namespace tsdsr::model::sd3

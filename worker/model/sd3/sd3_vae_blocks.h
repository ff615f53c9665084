// The layers of the SD3 VAE (diffusers 0.29.2 AutoencoderKL with DownEncoderBlock2D / UpDecoderBlock2D): 2-D
// convolutions, group norms, ResnetBlock2D and the mid block with its single-head self-attention. Each holds its
// weights in the run's dtype and device, taken with a WeightTaker under diffusers' state-dict names, and is
// read-only once built (Forward is thread-safe). Forward throws c10::Error on a shape mismatch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "worker/model/sd3/sd3_transformer_weights.h"

namespace tsdsr::model::sd3 {

// torch.nn.Conv2d with a square kernel and a bias.
struct VaeConv {
  at::Tensor weight;  // (out, in, k, k)
  at::Tensor bias;    // (out)
  int64_t stride = 1;
  int64_t padding = 0;

  at::Tensor operator()(const at::Tensor& x) const;
  // `prefix`.weight and `prefix`.bias, as WeightTaker::Take.
  static VaeConv Take(WeightTaker& taker, const std::string& prefix, int64_t out, int64_t in, int64_t kernel,
                      int64_t stride, int64_t padding);
};

// torch.nn.GroupNorm with affine weights, eps 1e-6 (every norm of the VAE).
struct VaeGroupNorm {
  at::Tensor weight;  // (channels)
  at::Tensor bias;
  int64_t groups = 1;

  at::Tensor operator()(const at::Tensor& x) const;
  static VaeGroupNorm Take(WeightTaker& taker, const std::string& prefix, int64_t channels, int64_t groups);
};

// ResnetBlock2D without a time embedding: x + conv2(silu(norm2(conv1(silu(norm1(x)))))) with a 1×1
// conv_shortcut on x when the channel count changes.
struct VaeResnet {
  VaeGroupNorm norm1, norm2;
  VaeConv conv1, conv2;
  std::optional<VaeConv> shortcut;

  at::Tensor operator()(const at::Tensor& x) const;
  static VaeResnet Take(WeightTaker& taker, const std::string& prefix, int64_t in, int64_t out, int64_t groups);
};

// The mid block's Attention (one head as wide as the channels, group norm first, residual): tokens are the pixels.
struct VaeAttention {
  VaeGroupNorm norm;  // group_norm
  Linear to_q, to_k, to_v, to_out;

  at::Tensor operator()(const at::Tensor& x) const;
  static VaeAttention Take(WeightTaker& taker, const std::string& prefix, int64_t channels, int64_t groups);
};

// UNetMidBlock2D: resnets.0, attentions.0 (when present), resnets.1, all `channels` wide.
struct VaeMidBlock {
  VaeResnet first, second;
  std::optional<VaeAttention> attention;

  at::Tensor operator()(const at::Tensor& x) const;
  static VaeMidBlock Take(WeightTaker& taker, const std::string& prefix, int64_t channels, int64_t groups,
                          bool with_attention);
};

// DownEncoderBlock2D (resnets then an optional Downsample2D: pad right/bottom by 1, 3×3 conv of stride 2) or
// UpDecoderBlock2D (resnets then an optional Upsample2D: nearest ×2, 3×3 conv).
struct VaeLevel {
  std::vector<VaeResnet> resnets;
  std::optional<VaeConv> downsample;
  std::optional<VaeConv> upsample;

  at::Tensor operator()(const at::Tensor& x) const;
};

}  // namespace tsdsr::model::sd3

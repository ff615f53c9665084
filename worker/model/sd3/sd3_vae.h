// SD3Vae: the SD3 autoencoder (diffusers 0.29.2 AutoencoderKL) re-implemented in LibTorch, built from the vae/
// folder of an SD3 checkpoint: its config.json (DiffusersVaeConfig) and its weights under diffusers' state-dict
// names, with TSD-SR's encoder LoRA merged in beforehand (MergeLora). TSD-SR encodes the bicubic-upscaled tile
// to the latent mean, runs the transformer once, and decodes.
//
// Encoder: conv_in; per level a DownEncoderBlock2D (layers_per_block ResnetBlock2D, then Downsample2D except on
// the last level); mid block (resnet, attention, resnet); GroupNorm, SiLU, conv_out to 2·latent channels; optional
// quant_conv; split into mean and logvar (clamped to [-30, 20]). Decoder: optional post_quant_conv; conv_in; mid
// block; per level, widest first, an UpDecoderBlock2D (layers_per_block + 1 resnets, then Upsample2D except on the
// last level); GroupNorm, SiLU, conv_out. Nothing about the sizes is fixed: everything comes from the config.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <c10/core/TensorOptions.h>

#include "common/status.h"
#include "worker/model/sd3/diffusers_config.h"
#include "worker/model/sd3/safetensors.h"
#include "worker/model/sd3/sd3_vae_blocks.h"

namespace tsdsr::model::sd3 {

// The encoder's diagonal Gaussian over latents: both (N, latent_channels, H/f, W/f); std = exp(logvar / 2).
struct VaeLatentDist {
  at::Tensor mean;
  at::Tensor logvar;
};

class SD3Vae {
 public:
  // Builds the VAE that `config` describes from `weights` (consumed: diffusers' names "encoder.*", "decoder.*",
  // and "quant_conv.*" / "post_quant_conv.*" when the config uses them; any floating dtype, any device),
  // converted to `dtype` on `device`. Errors: InvalidArgument for a config it cannot build (naming the field), a
  // non-floating dtype, a missing or misshaped weight (naming the key) or weights no layer takes (naming them);
  // ResourceExhausted when the weights do not fit on the device; Internal for another LibTorch error.
  static Result<std::unique_ptr<SD3Vae>> Create(const DiffusersVaeConfig& config, TensorMap weights,
                                                c10::ScalarType dtype, c10::Device device);
  // The VAE of `config` with random weights (WeightTaker::Random): real sizes and speed, no checkpoint. Errors as
  // Create.
  static Result<std::unique_ptr<SD3Vae>> CreateRandom(const DiffusersVaeConfig& config, c10::ScalarType dtype,
                                                      c10::Device device);

  // Encodes images (N, in_channels, H, W), values in [-1, 1], H and W multiples of downscale_factor(), converted
  // to the model's dtype and device. Returns the latent distribution in the model's dtype on its device (TSD-SR
  // uses its mean). Runs under InferenceMode. Throws c10::Error naming the input for a shape that does not fit,
  // and for LibTorch failures (e.g. out of memory). Thread-safe: it only reads the weights.
  VaeLatentDist Encode(const at::Tensor& image) const;

  // Decodes latents (N, latent_channels, h, w) (already divided by scaling_factor; no shift is applied) to images
  // (N, out_channels, h·f, w·f), about [-1, 1], not clamped, in the model's dtype on its device. Otherwise as
  // Encode.
  at::Tensor Decode(const at::Tensor& latent) const;

  const DiffusersVaeConfig& config() const { return config_; }
  // f = 2^(levels − 1): how much smaller the latent is than the image (8 for SD3).
  int64_t downscale_factor() const { return int64_t{1} << (config_.block_out_channels.size() - 1); }
  c10::ScalarType dtype() const { return options_.dtype().toScalarType(); }
  c10::Device device() const { return options_.device(); }

 private:
  SD3Vae(const DiffusersVaeConfig& config, const c10::TensorOptions& options) : config_(config), options_(options) {}
  // Create and CreateRandom: the weights come from `*weights` (consumed), or are random when it is null.
  static Result<std::unique_ptr<SD3Vae>> Build(const DiffusersVaeConfig& config, c10::ScalarType dtype,
                                               c10::Device device, TensorMap* weights);
  void TakeEncoder(WeightTaker& taker);
  void TakeDecoder(WeightTaker& taker);

  DiffusersVaeConfig config_;
  c10::TensorOptions options_;
  // Encoder.
  VaeConv enc_conv_in_;
  std::vector<VaeLevel> down_;
  VaeMidBlock enc_mid_;
  VaeGroupNorm enc_norm_out_;
  VaeConv enc_conv_out_;
  std::optional<VaeConv> quant_conv_;
  // Decoder.
  std::optional<VaeConv> post_quant_conv_;
  VaeConv dec_conv_in_;
  VaeMidBlock dec_mid_;
  std::vector<VaeLevel> up_;
  VaeGroupNorm dec_norm_out_;
  VaeConv dec_conv_out_;
};

// OK when `config` describes a VAE SD3Vae can build, else InvalidArgument naming the field: positive sizes, one
// DownEncoderBlock2D and one UpDecoderBlock2D per entry of block_out_channels, each divisible by norm_num_groups.
Status ValidateVaeConfig(const DiffusersVaeConfig& config);

}  // namespace tsdsr::model::sd3

#include "worker/model/sd3/sd3_vae.h"

#include <utility>

#include <ATen/ops/clamp.h>
#include <ATen/ops/silu.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include "worker/model/tiler.h"

namespace tsdsr::model::sd3 {
namespace {

constexpr char kWhat[] = "SD3 VAE";

Status BadField(const std::string& field, const std::string& what) {
  return Status::InvalidArgument(std::string(kWhat) + ": config " + field + ": " + what);
}

// Checks a 4-D input of `channels` channels whose spatial size is a multiple of `multiple`.
void CheckInput(const at::Tensor& x, const char* name, int64_t channels, int64_t multiple) {
  TORCH_CHECK(x.defined() && x.dim() == 4, kWhat, ": ", name, " must be (N, ", channels, ", H, W), got ",
              x.defined() ? ShapeString(x.sizes()) : std::string("undefined"));
  TORCH_CHECK(x.size(1) == channels && x.size(0) > 0 && x.size(2) > 0 && x.size(3) > 0, kWhat, ": ", name,
              " must be (N, ", channels, ", H, W), got ", ShapeString(x.sizes()));
  TORCH_CHECK(x.size(2) % multiple == 0 && x.size(3) % multiple == 0, kWhat, ": ", name, " height and width must be ",
              "multiples of ", multiple, ", got ", ShapeString(x.sizes()));
}

}  // namespace

Status ValidateVaeConfig(const DiffusersVaeConfig& c) {
  if (c.in_channels < 1 || c.out_channels < 1 || c.latent_channels < 1) {
    return BadField("in_channels/out_channels/latent_channels", "must be positive");
  }
  if (c.layers_per_block < 1) return BadField("layers_per_block", "must be positive");
  if (c.norm_num_groups < 1) return BadField("norm_num_groups", "must be positive");
  if (c.block_out_channels.empty()) return BadField("block_out_channels", "is empty");
  for (int64_t channels : c.block_out_channels) {
    if (channels < 1 || channels % c.norm_num_groups != 0) {
      return BadField("block_out_channels", std::to_string(channels) + " is not a positive multiple of " +
                                                "norm_num_groups " + std::to_string(c.norm_num_groups));
    }
  }
  if (c.down_block_types != std::vector<std::string>(c.block_out_channels.size(), "DownEncoderBlock2D")) {
    return BadField("down_block_types", "must be DownEncoderBlock2D once per block_out_channels entry");
  }
  if (c.up_block_types != std::vector<std::string>(c.block_out_channels.size(), "UpDecoderBlock2D")) {
    return BadField("up_block_types", "must be UpDecoderBlock2D once per block_out_channels entry");
  }
  return Status::Ok();
}

void SD3Vae::TakeEncoder(WeightTaker& taker) {
  const auto& widths = config_.block_out_channels;
  const int64_t groups = config_.norm_num_groups;
  enc_conv_in_ = VaeConv::Take(taker, "encoder.conv_in", widths[0], config_.in_channels, 3, 1, 1);
  int64_t in = widths[0];
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string prefix = "encoder.down_blocks." + std::to_string(i);
    VaeLevel level;
    for (int64_t j = 0; j < config_.layers_per_block; ++j) {
      level.resnets.push_back(VaeResnet::Take(taker, prefix + ".resnets." + std::to_string(j), in, widths[i], groups));
      in = widths[i];
    }
    if (i + 1 < widths.size())
      level.downsample = VaeConv::Take(taker, prefix + ".downsamplers.0.conv", in, in, 3, 2, 0);
    down_.push_back(std::move(level));
  }
  enc_mid_ = VaeMidBlock::Take(taker, "encoder.mid_block", in, groups, config_.mid_block_add_attention);
  enc_norm_out_ = VaeGroupNorm::Take(taker, "encoder.conv_norm_out", in, groups);
  const int64_t moments = 2 * config_.latent_channels;
  enc_conv_out_ = VaeConv::Take(taker, "encoder.conv_out", moments, in, 3, 1, 1);
  if (config_.use_quant_conv) quant_conv_ = VaeConv::Take(taker, "quant_conv", moments, moments, 1, 1, 0);
}

void SD3Vae::TakeDecoder(WeightTaker& taker) {
  const auto& widths = config_.block_out_channels;
  const int64_t groups = config_.norm_num_groups;
  const int64_t latent = config_.latent_channels;
  if (config_.use_post_quant_conv) post_quant_conv_ = VaeConv::Take(taker, "post_quant_conv", latent, latent, 1, 1, 0);
  int64_t in = widths.back();
  dec_conv_in_ = VaeConv::Take(taker, "decoder.conv_in", in, latent, 3, 1, 1);
  dec_mid_ = VaeMidBlock::Take(taker, "decoder.mid_block", in, groups, config_.mid_block_add_attention);
  for (size_t i = 0; i < widths.size(); ++i) {
    const int64_t out = widths[widths.size() - 1 - i];
    const std::string prefix = "decoder.up_blocks." + std::to_string(i);
    VaeLevel level;
    for (int64_t j = 0; j <= config_.layers_per_block; ++j) {
      level.resnets.push_back(VaeResnet::Take(taker, prefix + ".resnets." + std::to_string(j), in, out, groups));
      in = out;
    }
    if (i + 1 < widths.size()) level.upsample = VaeConv::Take(taker, prefix + ".upsamplers.0.conv", in, in, 3, 1, 1);
    up_.push_back(std::move(level));
  }
  dec_norm_out_ = VaeGroupNorm::Take(taker, "decoder.conv_norm_out", in, groups);
  dec_conv_out_ = VaeConv::Take(taker, "decoder.conv_out", config_.out_channels, in, 3, 1, 1);
}

Result<std::unique_ptr<SD3Vae>> SD3Vae::Create(const DiffusersVaeConfig& config, TensorMap weights,
                                               c10::ScalarType dtype, c10::Device device) {
  return Build(config, dtype, device, &weights);
}

Result<std::unique_ptr<SD3Vae>> SD3Vae::CreateRandom(const DiffusersVaeConfig& config, c10::ScalarType dtype,
                                                     c10::Device device) {
  return Build(config, dtype, device, nullptr);
}

Result<std::unique_ptr<SD3Vae>> SD3Vae::Build(const DiffusersVaeConfig& config, c10::ScalarType dtype,
                                              c10::Device device, TensorMap* weights) {
  TSDSR_RETURN_IF_ERROR(ValidateVaeConfig(config));
  if (!at::isFloatingType(dtype)) {
    return Status::InvalidArgument(std::string(kWhat) + ": dtype " + c10::toString(dtype) + " is not floating point");
  }
  std::unique_ptr<SD3Vae> vae(new SD3Vae(config, at::TensorOptions().dtype(dtype).device(device)));
  try {
    WeightTaker taker = weights ? WeightTaker(std::move(*weights), vae->options_, kWhat)
                                : WeightTaker::Random(vae->options_, kWhat);
    vae->TakeEncoder(taker);
    vae->TakeDecoder(taker);
    TSDSR_RETURN_IF_ERROR(taker.Finish());
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, std::string(kWhat) + ": loading the weights");
  }
  return vae;
}

VaeLatentDist SD3Vae::Encode(const at::Tensor& image) const {
  c10::InferenceMode guard;
  CheckInput(image, "image", config_.in_channels, downscale_factor());
  at::Tensor h = enc_conv_in_(image.to(options_));
  for (const VaeLevel& level : down_) h = level(h);
  h = enc_conv_out_(at::silu(enc_norm_out_(enc_mid_(h))));
  if (quant_conv_) h = (*quant_conv_)(h);
  const auto moments = h.chunk(2, /*dim=*/1);
  return {moments[0].contiguous(), at::clamp(moments[1], -30.0, 20.0)};
}

at::Tensor SD3Vae::Decode(const at::Tensor& latent) const {
  c10::InferenceMode guard;
  CheckInput(latent, "latent", config_.latent_channels, 1);
  at::Tensor h = latent.to(options_);
  if (post_quant_conv_) h = (*post_quant_conv_)(h);
  h = dec_mid_(dec_conv_in_(h));
  for (const VaeLevel& level : up_) h = level(h);
  return dec_conv_out_(at::silu(dec_norm_out_(h)));
}

}  // namespace tsdsr::model::sd3

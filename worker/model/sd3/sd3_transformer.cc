#include "worker/model/sd3/sd3_transformer.h"

#include <new>
#include <string>
#include <tuple>
#include <utility>

#include <ATen/ops/conv2d.h>
#include <ATen/ops/silu.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include "worker/model/sd3/sd3_transformer_embeddings.h"
#include "worker/model/tiler.h"

namespace tsdsr::model::sd3 {
namespace {

// Channels of the sinusoidal timestep projection (diffusers: Timesteps(num_channels=256)).
constexpr int64_t kTimestepChannels = 256;

Status BadConfig(const std::string& message) { return Status::InvalidArgument("SD3 transformer config: " + message); }

// (N, h·w, p·p·C) tokens → (N, C, h·p, w·p): diffusers' unpatchify, einsum "nhwpqc->nchpwq".
at::Tensor Unpatchify(const at::Tensor& tokens, int64_t h, int64_t w, int64_t p, int64_t channels) {
  const int64_t n = tokens.size(0);
  return tokens.reshape({n, h, w, p, p, channels}).permute({0, 5, 1, 3, 2, 4}).reshape({n, channels, h * p, w * p});
}

}  // namespace

Status ValidateTransformerConfig(const DiffusersTransformerConfig& c) {
  const std::pair<const char*, int64_t> sizes[] = {
      {"sample_size", c.sample_size},
      {"patch_size", c.patch_size},
      {"in_channels", c.in_channels},
      {"num_layers", c.num_layers},
      {"attention_head_dim", c.attention_head_dim},
      {"num_attention_heads", c.num_attention_heads},
      {"joint_attention_dim", c.joint_attention_dim},
      {"caption_projection_dim", c.caption_projection_dim},
      {"pooled_projection_dim", c.pooled_projection_dim},
      {"out_channels", c.out_channels},
  };
  for (const auto& [name, value] : sizes) {
    if (value < 1) return BadConfig(std::string(name) + " must be at least 1, got " + std::to_string(value));
  }
  if (!c.pos_embed_max_size.has_value()) {
    return BadConfig("pos_embed_max_size is null; only SD3's cropped position embedding is supported");
  }
  if (*c.pos_embed_max_size < 1) {
    return BadConfig("pos_embed_max_size must be at least 1, got " + std::to_string(*c.pos_embed_max_size));
  }
  const int64_t inner = c.inner_dim();
  if (inner % 4 != 0) {
    return BadConfig("num_attention_heads × attention_head_dim = " + std::to_string(inner) +
                     " must be a multiple of 4 (the sin-cos position embedding)");
  }
  if (c.caption_projection_dim != inner) {
    return BadConfig("caption_projection_dim " + std::to_string(c.caption_projection_dim) +
                     " must equal num_attention_heads × attention_head_dim = " + std::to_string(inner) +
                     " (context tokens join the image tokens' attention)");
  }
  if (c.sample_size < c.patch_size) {
    return BadConfig("sample_size " + std::to_string(c.sample_size) + " is smaller than patch_size " +
                     std::to_string(c.patch_size));
  }
  return Status::Ok();
}

SD3Transformer::SD3Transformer(const DiffusersTransformerConfig& config, const c10::TensorOptions& options)
    : config_(config),
      options_(options),
      inner_dim_(config.inner_dim()),
      max_size_(config.pos_embed_max_size.value_or(0)) {}

Result<std::unique_ptr<SD3Transformer>> SD3Transformer::Create(const DiffusersTransformerConfig& config,
                                                               TensorMap weights, c10::ScalarType dtype,
                                                               c10::Device device) {
  return Build(config, dtype, device, [&weights](const c10::TensorOptions& options) {
    return WeightTaker(std::move(weights), options, "SD3 transformer");
  });
}

Result<std::unique_ptr<SD3Transformer>> SD3Transformer::CreateRandom(const DiffusersTransformerConfig& config,
                                                                     c10::ScalarType dtype, c10::Device device) {
  return Build(config, dtype, device,
               [](const c10::TensorOptions& options) { return WeightTaker::Random(options, "SD3 transformer"); });
}

template <typename MakeTaker>
Result<std::unique_ptr<SD3Transformer>> SD3Transformer::Build(const DiffusersTransformerConfig& config,
                                                              c10::ScalarType dtype, c10::Device device,
                                                              MakeTaker make_taker) {
  TSDSR_RETURN_IF_ERROR(ValidateTransformerConfig(config));
  if (!c10::isFloatingType(dtype)) {
    return Status::InvalidArgument(std::string("SD3 transformer: dtype must be floating point, got ") +
                                   c10::toString(dtype));
  }
  try {
    const c10::TensorOptions options = c10::TensorOptions().dtype(dtype).device(device);
    std::unique_ptr<SD3Transformer> model(new SD3Transformer(config, options));
    WeightTaker taker = make_taker(options);
    model->TakeWeights(taker);
    TSDSR_RETURN_IF_ERROR(taker.Finish());
    return model;
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "loading the SD3 transformer");
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of host memory loading the SD3 transformer");
  }
}

void SD3Transformer::TakeWeights(WeightTaker& taker) {
  const int64_t d = inner_dim_;
  const int64_t p = config_.patch_size;
  patch_weight_ = taker.Take("pos_embed.proj.weight", {d, config_.in_channels, p, p});
  patch_bias_ = taker.Take("pos_embed.proj.bias", {d});
  const at::Tensor stored_table = taker.TakeOptional("pos_embed.pos_embed", {1, max_size_ * max_size_, d});
  pos_table_ =
      stored_table.defined() ? stored_table[0] : SincosPosEmbed2d(d, max_size_, config_.sample_size / p).to(options_);
  time_in_ = taker.TakeLinear("time_text_embed.timestep_embedder.linear_1", d, kTimestepChannels);
  time_out_ = taker.TakeLinear("time_text_embed.timestep_embedder.linear_2", d, d);
  text_in_ = taker.TakeLinear("time_text_embed.text_embedder.linear_1", d, config_.pooled_projection_dim);
  text_out_ = taker.TakeLinear("time_text_embed.text_embedder.linear_2", d, d);
  context_embedder_ = taker.TakeLinear("context_embedder", config_.caption_projection_dim, config_.joint_attention_dim);
  blocks_.clear();
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    blocks_.push_back(JointBlock::Take(taker, "transformer_blocks." + std::to_string(i), d, config_.num_attention_heads,
                                       i == config_.num_layers - 1));
  }
  norm_out_ = taker.TakeLinear("norm_out.linear", 2 * d, d);
  proj_out_ = taker.TakeLinear("proj_out", p * p * config_.out_channels, d);
}

void SD3Transformer::CheckInputs(const at::Tensor& hidden_states, const at::Tensor& timestep,
                                 const at::Tensor& encoder_hidden_states, const at::Tensor& pooled_projections) const {
  const int64_t p = config_.patch_size;
  TORCH_CHECK(hidden_states.dim() == 4 && hidden_states.size(1) == config_.in_channels,
              "SD3 transformer: hidden_states must be (N, ", config_.in_channels, ", H, W), got ",
              hidden_states.sizes());
  const int64_t n = hidden_states.size(0);
  const int64_t height = hidden_states.size(2);
  const int64_t width = hidden_states.size(3);
  TORCH_CHECK(height > 0 && width > 0 && height % p == 0 && width % p == 0, "SD3 transformer: the latent's ",
              "height and width must be positive multiples of patch_size ", p, ", got ", height, "×", width);
  TORCH_CHECK(height / p <= max_size_ && width / p <= max_size_, "SD3 transformer: a ", height, "×", width,
              " latent is larger than the position embedding allows (", p * max_size_, "×", p * max_size_,
              ": pos_embed_max_size ", max_size_, " patches of ", p, ")");
  TORCH_CHECK(timestep.numel() == 1 || (timestep.dim() == 1 && timestep.size(0) == n),
              "SD3 transformer: timestep must be (", n, ") or a single value, got ", timestep.sizes());
  TORCH_CHECK(encoder_hidden_states.dim() == 3 && encoder_hidden_states.size(0) == n &&
                  encoder_hidden_states.size(2) == config_.joint_attention_dim,
              "SD3 transformer: encoder_hidden_states must be (", n, ", L, ", config_.joint_attention_dim, "), got ",
              encoder_hidden_states.sizes());
  TORCH_CHECK(pooled_projections.dim() == 2 && pooled_projections.size(0) == n &&
                  pooled_projections.size(1) == config_.pooled_projection_dim,
              "SD3 transformer: pooled_projections must be (", n, ", ", config_.pooled_projection_dim, "), got ",
              pooled_projections.sizes());
}

at::Tensor SD3Transformer::TimeTextEmbedding(const at::Tensor& timestep, const at::Tensor& pooled_projections) const {
  const at::Tensor steps = timestep.to(options_.device()).reshape({-1}).expand({pooled_projections.size(0)});
  const at::Tensor time = TimestepSinusoid(steps, kTimestepChannels).to(options_.dtype());
  const at::Tensor time_embedding = time_out_(at::silu(time_in_(time)));
  return time_embedding.add(text_out_(at::silu(text_in_(pooled_projections))));
}

at::Tensor SD3Transformer::Forward(const at::Tensor& hidden_states, const at::Tensor& timestep,
                                   const at::Tensor& encoder_hidden_states,
                                   const at::Tensor& pooled_projections) const {
  c10::InferenceMode inference;
  CheckInputs(hidden_states, timestep, encoder_hidden_states, pooled_projections);
  const int64_t p = config_.patch_size;
  const int64_t h = hidden_states.size(2) / p;
  const int64_t w = hidden_states.size(3) / p;

  // PatchEmbed: a p×p stride-p convolution, tokens row-major, plus the centre crop of the position table.
  at::Tensor x = at::conv2d(hidden_states.to(options_), patch_weight_, patch_bias_, {p, p});
  x = x.flatten(2).transpose(1, 2).add(CropPosEmbed(pos_table_, max_size_, h, w));
  const at::Tensor silu_temb = at::silu(TimeTextEmbedding(timestep, pooled_projections.to(options_)));
  at::Tensor context = context_embedder_(encoder_hidden_states.to(options_));
  for (const JointBlock& block : blocks_) std::tie(x, context) = block.Forward(x, context, silu_temb);
  x = proj_out_(AdaNormContinuous(norm_out_, x, silu_temb));
  return Unpatchify(x, h, w, p, config_.out_channels);
}

}  // namespace tsdsr::model::sd3

#include "worker/model/sd3/tsdsr_model.h"

#include <algorithm>
#include <utility>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/replication_pad2d.h>
#include <ATen/ops/upsample_bicubic2d.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include "worker/model/tiler.h"

namespace tsdsr::model::sd3 {
namespace {

// The timestep TSD-SR's single step runs at: the start of the noise schedule.
constexpr double kTimestep = 1000.0;

int64_t RoundUp(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

Status CheckCompatible(const SD3Vae& vae, const SD3Transformer& transformer, const std::vector<int>& scales) {
  const auto& t = transformer.config();
  if (vae.config().latent_channels != t.in_channels || t.out_channels != t.in_channels) {
    return Status::InvalidArgument("the VAE's latent_channels (" + std::to_string(vae.config().latent_channels) +
                                   ") differ from the transformer's in/out_channels (" +
                                   std::to_string(t.in_channels) + "/" + std::to_string(t.out_channels) + ")");
  }
  if (vae.config().in_channels != 3 || vae.config().out_channels != 3) {
    return Status::InvalidArgument("the VAE must take and give RGB images (in_channels and out_channels 3)");
  }
  for (int scale : scales) {
    if (scale < 1 || scale > 8) return Status::InvalidArgument("TSD-SR scales must be within 1..8");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<TsdsrModel>> TsdsrModel::Create(const TsdsrOptions& options, c10::Device device,
                                                       c10::ScalarType dtype) {
  TSDSR_ASSIGN_OR_RETURN(TsdsrCheckpoint checkpoint, ReadTsdsrCheckpoint(options.paths));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<SD3Vae> vae,
                         SD3Vae::Create(checkpoint.vae_config, std::move(checkpoint.vae_weights), dtype, device));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<SD3Transformer> transformer,
                         SD3Transformer::Create(checkpoint.transformer_config,
                                                std::move(checkpoint.transformer_weights), dtype, device));
  return Assemble(std::move(vae), std::move(transformer), std::move(checkpoint.embeddings), options);
}

Result<std::unique_ptr<TsdsrModel>> TsdsrModel::CreateRandom(const TsdsrOptions& options, int64_t prompt_tokens,
                                                             c10::Device device, c10::ScalarType dtype) {
  const std::string& dir = options.paths.sd3_dir;
  TSDSR_ASSIGN_OR_RETURN(const DiffusersTransformerConfig transformer_config,
                         ReadDiffusersTransformerConfig(dir + "/transformer/config.json"));
  TSDSR_ASSIGN_OR_RETURN(const DiffusersVaeConfig vae_config, ReadDiffusersVaeConfig(dir + "/vae/config.json"));
  if (prompt_tokens < 1) return Status::InvalidArgument("prompt_tokens must be at least 1");
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<SD3Vae> vae, SD3Vae::CreateRandom(vae_config, dtype, device));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<SD3Transformer> transformer,
                         SD3Transformer::CreateRandom(transformer_config, dtype, device));
  PromptEmbeddings embeddings;
  try {
    embeddings.prompt = at::randn({1, prompt_tokens, transformer_config.joint_attention_dim});
    embeddings.pooled = at::randn({1, transformer_config.pooled_projection_dim});
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "random TSD-SR prompt embeddings");
  }
  return Assemble(std::move(vae), std::move(transformer), std::move(embeddings), options);
}

Result<std::unique_ptr<TsdsrModel>> TsdsrModel::Assemble(std::unique_ptr<SD3Vae> vae,
                                                         std::unique_ptr<SD3Transformer> transformer,
                                                         PromptEmbeddings embeddings, const TsdsrOptions& options) {
  TSDSR_RETURN_IF_ERROR(CheckCompatible(*vae, *transformer, options.scales));
  try {
    return std::unique_ptr<TsdsrModel>(
        new TsdsrModel(std::move(vae), std::move(transformer), std::move(embeddings), options));
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "TSD-SR prompt embeddings");
  }
}

TsdsrModel::TsdsrModel(std::unique_ptr<SD3Vae> vae, std::unique_ptr<SD3Transformer> transformer,
                       PromptEmbeddings embeddings, const TsdsrOptions& options)
    : vae_(std::move(vae)),
      transformer_(std::move(transformer)),
      sample_seed_(options.sample_seed),
      scales_(options.scales) {
  std::sort(scales_.begin(), scales_.end());
  prompt_ = embeddings.prompt.to(vae_->device(), vae_->dtype());
  pooled_ = embeddings.pooled.to(vae_->device(), vae_->dtype());
}

int64_t TsdsrModel::pixel_multiple() const { return vae_->downscale_factor() * transformer_->config().patch_size; }

at::Tensor TsdsrModel::Encode(const at::Tensor& image) {
  const VaeLatentDist dist = vae_->Encode(image);
  if (!sample_seed_) return dist.mean;
  // Drawn on the CPU from the seed, so a seed gives the same latent on every device.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(*sample_seed_);
  const at::Tensor noise = at::randn(dist.mean.sizes(), generator, c10::TensorOptions().dtype(c10::kFloat));
  return dist.mean.add(dist.logvar.mul(0.5).exp().mul(noise.to(dist.mean.device(), dist.mean.scalar_type())));
}

at::Tensor TsdsrModel::Refine(const at::Tensor& upscaled) {
  c10::InferenceMode inference_mode;
  TORCH_CHECK(upscaled.dim() == 4 && upscaled.size(1) == 3, "TSD-SR refines (N, 3, H, W) images, got ",
              upscaled.sizes());
  const int64_t height = upscaled.size(2);
  const int64_t width = upscaled.size(3);
  const int64_t multiple = pixel_multiple();
  const int64_t max_pixels = vae_->downscale_factor() * transformer_->config().patch_size *
                             transformer_->config().pos_embed_max_size.value_or(transformer_->config().sample_size);
  TORCH_CHECK(RoundUp(height, multiple) <= max_pixels && RoundUp(width, multiple) <= max_pixels, "a ", height, "x",
              width, " tile is larger than this TSD-SR transformer takes (", max_pixels, " pixels a side); use a "
              "smaller process_size");
  at::Tensor x = upscaled.to(vae_->device(), vae_->dtype());
  x = at::replication_pad2d(x, {0, RoundUp(width, multiple) - width, 0, RoundUp(height, multiple) - height});
  const double scaling = vae_->config().scaling_factor;
  const at::Tensor z = Encode(x).mul(scaling);
  const at::Tensor timestep = at::full({z.size(0)}, kTimestep, z.options());
  const at::Tensor v = transformer_->Forward(z, timestep, prompt_.expand({z.size(0), -1, -1}),
                                             pooled_.expand({z.size(0), -1}));
  const at::Tensor decoded = vae_->Decode(z.sub(v).div(scaling));
  return decoded.narrow(2, 0, height).narrow(3, 0, width).clamp(-1.0, 1.0);
}

at::Tensor TsdsrModel::Forward(const at::Tensor& batch, int scale) {
  TORCH_CHECK(std::find(scales_.begin(), scales_.end(), scale) != scales_.end(), name_, " does not upscale by ",
              scale);
  TORCH_CHECK(batch.dim() == 4 && batch.size(1) == 3, name_, " takes a batch shaped (N, 3, h, w), got ",
              batch.sizes());
  c10::InferenceMode inference_mode;
  const at::Tensor lr = batch.to(vae_->device(), vae_->dtype());
  const at::Tensor upscaled =
      at::upsample_bicubic2d(lr, {lr.size(2) * scale, lr.size(3) * scale}, /*align_corners=*/false)
          .mul(2.0)
          .sub(1.0)
          .clamp(-1.0, 1.0);
  return Refine(upscaled).add(1.0).mul(0.5);
}

}  // namespace tsdsr::model::sd3

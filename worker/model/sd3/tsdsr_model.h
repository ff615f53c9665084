// TsdsrModel ("tsdsr:SD3_DIR"): TSD-SR's one-step diffusion super-resolution as a TileModel. Per batch of LR
// tiles (DESIGN.md, "TSD-SR per tile"): bicubic ×s to the target size, to [-1, 1]; z = E(x)·sf (the posterior
// mean, or a seeded sample); v = T(z, t = 1000, prompt, pooled); z0 = z − v; y = D(z0 / sf); clamp; to [0, 1].
// sf is the VAE's scaling_factor (1.5305 for SD3). The colour fix against the bicubic upscale is applied by the
// caller (TorchUpscaler, --color-fix), on the whole image, so that every tile is anchored to the same image.
//
// process_size maps to the latent tile as process_size · s / f, f the VAE's downscale factor (8 for SD3): 128 at
// ×4 gives the official 64-latent tile. Tiles are padded (edge replicated) to a multiple of f · patch_size and
// cropped back; the latent tile may be at most 2 · pos_embed_max_size (192 for SD3-medium: 1536 pixels).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/model/sd3/sd3_checkpoint.h"
#include "worker/model/sd3/sd3_transformer.h"
#include "worker/model/sd3/sd3_vae.h"
#include "worker/model/tile_model.h"

namespace tsdsr::model::sd3 {

struct TsdsrOptions {
  TsdsrPaths paths;
  // Encode to a sample of the posterior, seeded, instead of its mean (the official default is the mean).
  std::optional<uint64_t> sample_seed;
  std::vector<int> scales = {2, 4};  // upscale factors offered (TSD-SR was trained at ×4)
};

class TsdsrModel : public TileModel {
 public:
  // Reads the checkpoint (ReadTsdsrCheckpoint) and builds the VAE and the transformer in `dtype` on `device`.
  // Errors as ReadTsdsrCheckpoint, SD3Vae::Create and SD3Transformer::Create (naming the file and key);
  // InvalidArgument for a VAE whose latent does not fit the transformer, or a scale outside 1..8.
  static Result<std::unique_ptr<TsdsrModel>> Create(const TsdsrOptions& options, c10::Device device,
                                                    c10::ScalarType dtype);

  // The pipeline of the configs in options.paths.sd3_dir (transformer/ and vae/config.json; no weights read) with
  // random weights and random prompt embeddings of `prompt_tokens` tokens (333 for TSD-SR): the real model's
  // sizes, speed and memory, without its files. For benchmarks. Errors as Create.
  static Result<std::unique_ptr<TsdsrModel>> CreateRandom(const TsdsrOptions& options, int64_t prompt_tokens,
                                                          c10::Device device, c10::ScalarType dtype);

  // See TileModel: (N, 3, h, w) in [0, 1] → (N, 3, h·s, w·s) in [0, 1]. Throws c10::Error for a scale not
  // offered or a tile larger than the transformer's position table. Not thread-safe (TileModel).
  at::Tensor Forward(const at::Tensor& batch, int scale) override;

  // The diffusion step on images already at the target size: (N, 3, H, W) in [-1, 1] → the decoded
  // (N, 3, H, W), clamped to [-1, 1]; H and W any size ≥ 1 (padded inside). Runs under InferenceMode.
  at::Tensor Refine(const at::Tensor& upscaled);

  const std::vector<int>& scales() const override { return scales_; }
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return vae_->dtype(); }
  c10::Device device() const override { return vae_->device(); }

  // Pixels of the target-size image per latent pixel (f); sizes are padded to multiples of f · patch_size.
  int64_t pixel_multiple() const;

 private:
  TsdsrModel(std::unique_ptr<SD3Vae> vae, std::unique_ptr<SD3Transformer> transformer, PromptEmbeddings embeddings,
             const TsdsrOptions& options);
  // Checks the networks fit together and makes the model; turns LibTorch errors into a Status.
  static Result<std::unique_ptr<TsdsrModel>> Assemble(std::unique_ptr<SD3Vae> vae,
                                                      std::unique_ptr<SD3Transformer> transformer,
                                                      PromptEmbeddings embeddings, const TsdsrOptions& options);
  at::Tensor Encode(const at::Tensor& image);

  std::unique_ptr<SD3Vae> vae_;
  std::unique_ptr<SD3Transformer> transformer_;
  at::Tensor prompt_;  // (1, L, joint_attention_dim) in the model's dtype on its device
  at::Tensor pooled_;  // (1, pooled_projection_dim)
  std::optional<uint64_t> sample_seed_;
  std::vector<int> scales_;
  std::string name_ = "tsdsr";
};

}  // namespace tsdsr::model::sd3

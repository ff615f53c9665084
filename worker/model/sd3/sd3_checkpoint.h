// The files of a TSD-SR checkpoint as users have them, read and checked at start:
//   SD3_DIR/transformer/, SD3_DIR/vae/  (diffusers layout: config.json and the weights, one
//                                        diffusion_pytorch_model.safetensors or shards listed by
//                                        diffusion_pytorch_model.safetensors.index.json)
//   LORA_DIR/transformer.safetensors, LORA_DIR/vae.safetensors  (TSD-SR's PEFT LoRA, lora.h)
//   EMBEDDINGS_DIR/prompt_embeds.pt, EMBEDDINGS_DIR/pool_embeds.pt  (prompt_embeddings.h)
#pragma once

#include <string>

#include "common/status.h"
#include "worker/model/sd3/diffusers_config.h"
#include "worker/model/sd3/prompt_embeddings.h"
#include "worker/model/sd3/safetensors.h"

namespace tsdsr::model::sd3 {

struct TsdsrPaths {
  std::string sd3_dir;         // holds transformer/ and vae/
  std::string lora_dir;        // holds transformer.safetensors and vae.safetensors
  std::string embeddings_dir;  // holds prompt_embeds.pt and pool_embeds.pt
};

// Everything the pipeline is built from, on the CPU, with the LoRA already merged into the weights.
struct TsdsrCheckpoint {
  DiffusersTransformerConfig transformer_config;
  TensorMap transformer_weights;
  DiffusersVaeConfig vae_config;
  TensorMap vae_weights;
  PromptEmbeddings embeddings;
};

// The weights of a diffusers model folder: DIR/diffusion_pytorch_model.safetensors, else the shards that
// DIR/diffusion_pytorch_model.safetensors.index.json maps every tensor to (each tensor must be in the shard the
// index names). NotFound naming both file names when neither exists; InvalidArgument naming the file for a bad
// index, a tensor in two shards or missing from its shard; ReadSafetensors' errors.
Result<TensorMap> ReadDiffusersWeights(const std::string& dir);

// Reads the whole checkpoint and merges each LoRA into its network (transformer LoRA into the transformer; VAE
// LoRA into the VAE, whose encoder it adapts) with scale lora_alpha / rank: lora_alpha from the file's
// __metadata__ "lora_alpha" when present, else TSD-SR's 64; rank from each module's A. Errors name the file and,
// where one is at fault, the key (ReadDiffusersWeights, the config readers, MergeLora, ReadPromptEmbeddings,
// which checks the embeddings against the transformer's config). Does not check that the networks build: that
// is SD3Transformer::Create and SD3Vae::Create.
Result<TsdsrCheckpoint> ReadTsdsrCheckpoint(const TsdsrPaths& paths);

}  // namespace tsdsr::model::sd3

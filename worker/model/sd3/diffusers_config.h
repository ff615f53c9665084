// The config.json files of a diffusers model folder (transformer/, vae/), read into typed structs. Keys take
// diffusers' own defaults (v0.29.2) when absent, as from_pretrained does, so every field below has the default
// diffusers gives it; unknown keys ("_class_name", "_diffusers_version", "force_upcast", ...) are ignored.
// A key that is present with the wrong JSON type or an impossible value is an InvalidArgument naming the file
// and the key; so is a configuration these networks cannot run (e.g. SD3.5's qk_norm).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace tsdsr::model::sd3 {

// SD3Transformer2DModel (the MMDiT). Defaults are SD3-medium's.
struct DiffusersTransformerConfig {
  int64_t sample_size = 128;  // latent edge the positional grid was made for (used when no pos_embed_max_size)
  int64_t patch_size = 2;
  int64_t in_channels = 16;
  int64_t num_layers = 18;
  int64_t attention_head_dim = 64;
  int64_t num_attention_heads = 18;
  int64_t joint_attention_dim = 4096;     // width of the prompt embeddings (T5/CLIP concatenated)
  int64_t caption_projection_dim = 1152;  // must equal inner_dim()
  int64_t pooled_projection_dim = 2048;
  int64_t out_channels = 16;                       // "out_channels": null in the file means in_channels
  std::optional<int64_t> pos_embed_max_size = 96;  // in patches; null in the file means none

  // num_attention_heads · attention_head_dim, the width of the token streams.
  int64_t inner_dim() const { return num_attention_heads * attention_head_dim; }
};

// AutoencoderKL (the SD3 VAE: 16 latent channels, no quant convs). Defaults are diffusers' class defaults, which
// are not SD3's: an SD3 config.json states them all.
struct DiffusersVaeConfig {
  int64_t in_channels = 3;
  int64_t out_channels = 3;
  std::vector<std::string> down_block_types = {"DownEncoderBlock2D"};  // only this type is supported
  std::vector<std::string> up_block_types = {"UpDecoderBlock2D"};      // only this type is supported
  std::vector<int64_t> block_out_channels = {64};
  int64_t layers_per_block = 1;
  int64_t latent_channels = 4;
  int64_t norm_num_groups = 32;
  double scaling_factor = 0.18215;
  double shift_factor = 0.0;  // null or absent in the file means 0
  bool use_quant_conv = true;
  bool use_post_quant_conv = true;
  bool mid_block_add_attention = true;  // read for newer files; diffusers 0.29.2 always adds the attention
};

// Fills a config from a parsed config.json. `source` names the file in error messages. InvalidArgument naming
// `source` and the key for a wrong type (e.g. a string or a float where an integer belongs), a value out of range
// (non-positive sizes, channels not divisible by norm_num_groups, list lengths that differ, caption_projection_dim
// ≠ heads·head_dim), an unsupported block type or act_fn, a "_class_name" naming another model, or SD3.5 keys
// (qk_norm, dual_attention_layers) with non-default values.
Result<DiffusersTransformerConfig> ParseDiffusersTransformerConfig(const nlohmann::json& config,
                                                                   const std::string& source);
Result<DiffusersVaeConfig> ParseDiffusersVaeConfig(const nlohmann::json& config, const std::string& source);

// Reads and parses `path` (a config.json). NotFound when it cannot be opened; InvalidArgument naming the file for
// JSON that does not parse or is not an object, and as the Parse functions above.
Result<DiffusersTransformerConfig> ReadDiffusersTransformerConfig(const std::string& path);
Result<DiffusersVaeConfig> ReadDiffusersVaeConfig(const std::string& path);

}  // namespace tsdsr::model::sd3

#include "worker/model/sd3/diffusers_config.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "worker/model/tfjs_test_files.h"

namespace tsdsr::model::sd3 {
namespace {

using model::testing::TempDir;
using nlohmann::json;

// stabilityai/stable-diffusion-3-medium-diffusers, transformer/config.json and vae/config.json.
constexpr char kSd3Transformer[] = R"({
  "_class_name": "SD3Transformer2DModel", "_diffusers_version": "0.29.0.dev0", "attention_head_dim": 64,
  "caption_projection_dim": 1536, "in_channels": 16, "joint_attention_dim": 4096, "num_attention_heads": 24,
  "num_layers": 24, "out_channels": 16, "patch_size": 2, "pooled_projection_dim": 2048,
  "pos_embed_max_size": 192, "sample_size": 128})";
constexpr char kSd3Vae[] = R"({
  "_class_name": "AutoencoderKL", "_diffusers_version": "0.29.0.dev0", "act_fn": "silu",
  "block_out_channels": [128, 256, 512, 512],
  "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  "force_upcast": true, "in_channels": 3, "latent_channels": 16, "latents_mean": null, "latents_std": null,
  "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 1024, "scaling_factor": 1.5305,
  "shift_factor": 0.0609,
  "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  "use_post_quant_conv": false, "use_quant_conv": false})";

// kSd3Transformer or kSd3Vae with `key` set to `value` (a JSON text), or removed when value is empty.
json With(const char* base, const std::string& key, const std::string& value) {
  json config = json::parse(base);
  if (value.empty()) {
    config.erase(key);
  } else {
    config[key] = json::parse(value);
  }
  return config;
}

// The error message of parsing `config` as a transformer (or a VAE), "" when it parses.
std::string TransformerError(const json& config) {
  return ParseDiffusersTransformerConfig(config, "t/config.json").status().message();
}
std::string VaeError(const json& config) { return ParseDiffusersVaeConfig(config, "v/config.json").status().message(); }

TEST(DiffusersConfigTest, ReadsTheSd3MediumTransformerConfig) {
  auto c = ParseDiffusersTransformerConfig(json::parse(kSd3Transformer), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->sample_size, 128);
  EXPECT_EQ(c->patch_size, 2);
  EXPECT_EQ(c->in_channels, 16);
  EXPECT_EQ(c->num_layers, 24);
  EXPECT_EQ(c->attention_head_dim, 64);
  EXPECT_EQ(c->num_attention_heads, 24);
  EXPECT_EQ(c->inner_dim(), 1536);
  EXPECT_EQ(c->joint_attention_dim, 4096);
  EXPECT_EQ(c->caption_projection_dim, 1536);
  EXPECT_EQ(c->pooled_projection_dim, 2048);
  EXPECT_EQ(c->out_channels, 16);
  EXPECT_EQ(c->pos_embed_max_size, 192);
}

TEST(DiffusersConfigTest, ReadsTheSd3VaeConfig) {
  auto c = ParseDiffusersVaeConfig(json::parse(kSd3Vae), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->in_channels, 3);
  EXPECT_EQ(c->out_channels, 3);
  EXPECT_EQ(c->block_out_channels, (std::vector<int64_t>{128, 256, 512, 512}));
  EXPECT_EQ(c->down_block_types, std::vector<std::string>(4, "DownEncoderBlock2D"));
  EXPECT_EQ(c->up_block_types, std::vector<std::string>(4, "UpDecoderBlock2D"));
  EXPECT_EQ(c->layers_per_block, 2);
  EXPECT_EQ(c->latent_channels, 16);
  EXPECT_EQ(c->norm_num_groups, 32);
  EXPECT_DOUBLE_EQ(c->scaling_factor, 1.5305);
  EXPECT_DOUBLE_EQ(c->shift_factor, 0.0609);
  EXPECT_FALSE(c->use_quant_conv);
  EXPECT_FALSE(c->use_post_quant_conv);
  EXPECT_TRUE(c->mid_block_add_attention);
}

TEST(DiffusersConfigTest, AbsentKeysTakeDiffusersDefaults) {
  auto t = ParseDiffusersTransformerConfig(json::object(), "config.json");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->num_layers, 18);
  EXPECT_EQ(t->inner_dim(), 1152);
  EXPECT_EQ(t->out_channels, 16);
  EXPECT_EQ(t->pos_embed_max_size, 96);
  auto v = ParseDiffusersVaeConfig(json::object(), "config.json");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->block_out_channels, (std::vector<int64_t>{64}));
  EXPECT_EQ(v->latent_channels, 4);
  EXPECT_DOUBLE_EQ(v->scaling_factor, 0.18215);
  EXPECT_DOUBLE_EQ(v->shift_factor, 0.0);
  EXPECT_TRUE(v->use_quant_conv && v->use_post_quant_conv);
}

TEST(DiffusersConfigTest, NullsMeanWhatDiffusersMakesOfThem) {
  auto t = ParseDiffusersTransformerConfig(
      With(With(kSd3Transformer, "out_channels", "null").dump().c_str(), "pos_embed_max_size", "null"), "c");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->out_channels, t->in_channels);
  EXPECT_FALSE(t->pos_embed_max_size.has_value());
  auto v = ParseDiffusersVaeConfig(With(kSd3Vae, "shift_factor", "null"), "c");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_DOUBLE_EQ(v->shift_factor, 0.0);
}

TEST(DiffusersConfigTest, MistypedKeysNameTheFileAndKey) {
  const std::vector<std::pair<std::string, std::string>> transformer_cases = {
      {"num_layers", "\"24\""},      {"patch_size", "2.0"},
      {"in_channels", "true"},       {"num_layers", "0"},
      {"attention_head_dim", "-64"}, {"pos_embed_max_size", "[192]"},
      {"out_channels", "\"x\""},     {"_class_name", "\"UNet2DConditionModel\""}};
  for (const auto& [key, value] : transformer_cases) {
    const std::string error = TransformerError(With(kSd3Transformer, key, value));
    EXPECT_NE(error.find("t/config.json: key \"" + key + "\""), std::string::npos)
        << key << "=" << value << ": " << error;
  }
  const std::vector<std::pair<std::string, std::string>> vae_cases = {{"block_out_channels", "[128, \"256\"]"},
                                                                      {"block_out_channels", "[]"},
                                                                      {"block_out_channels", "128"},
                                                                      {"down_block_types", "[1, 2, 3, 4]"},
                                                                      {"use_quant_conv", "0"},
                                                                      {"scaling_factor", "\"1.5\""},
                                                                      {"shift_factor", "[0.06]"},
                                                                      {"latent_channels", "16.5"},
                                                                      {"act_fn", "\"gelu\""},
                                                                      {"up_block_types", "\"UpDecoderBlock2D\""}};
  for (const auto& [key, value] : vae_cases) {
    const std::string error = VaeError(With(kSd3Vae, key, value));
    EXPECT_NE(error.find("v/config.json: key \"" + key + "\""), std::string::npos)
        << key << "=" << value << ": " << error;
  }
}

TEST(DiffusersConfigTest, RefusesConfigurationsTheNetworksCannotRun) {
  EXPECT_NE(TransformerError(With(kSd3Transformer, "caption_projection_dim", "1152")).find("caption_projection_dim"),
            std::string::npos);
  EXPECT_NE(TransformerError(With(kSd3Transformer, "qk_norm", "\"rms_norm\"")).find("qk_norm"), std::string::npos);
  EXPECT_NE(TransformerError(With(kSd3Transformer, "dual_attention_layers", "[0, 1]")).find("dual_attention"),
            std::string::npos);
  EXPECT_EQ(
      TransformerError(With(With(kSd3Transformer, "qk_norm", "null").dump().c_str(), "dual_attention_layers", "[]")),
      "");
  EXPECT_NE(VaeError(With(kSd3Vae, "down_block_types", R"(["DownEncoderBlock2D", "DownEncoderBlock2D",
      "DownEncoderBlock2D", "AttnDownEncoderBlock2D"])"))
                .find("\"AttnDownEncoderBlock2D\" is not supported"),
            std::string::npos);
  EXPECT_NE(VaeError(With(kSd3Vae, "block_out_channels", "[128, 256, 512]")).find("key \"down_block_types\""),
            std::string::npos);
  EXPECT_NE(VaeError(With(kSd3Vae, "norm_num_groups", "48")).find("block_out_channels"), std::string::npos);
}

TEST(DiffusersConfigTest, ReadsFilesAndReportsMissingOrBadOnes) {
  TempDir dir;
  dir.WriteText("t.json", kSd3Transformer);
  dir.WriteText("v.json", kSd3Vae);
  dir.WriteText("bad.json", "{\"in_channels\": ");
  dir.WriteText("list.json", "[]");
  EXPECT_TRUE(ReadDiffusersTransformerConfig(dir.path() + "/t.json").ok());
  EXPECT_TRUE(ReadDiffusersVaeConfig(dir.path() + "/v.json").ok());
  EXPECT_EQ(ReadDiffusersVaeConfig(dir.path() + "/none.json").status().code(), StatusCode::kNotFound);
  const Status bad = ReadDiffusersVaeConfig(dir.path() + "/bad.json").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("bad.json: not valid JSON"), std::string::npos) << bad.message();
  EXPECT_NE(ReadDiffusersTransformerConfig(dir.path() + "/list.json").status().message().find("not a JSON object"),
            std::string::npos);
  const Status wrong = ReadDiffusersTransformerConfig(dir.path() + "/v.json").status();
  EXPECT_NE(wrong.message().find("v.json: key \"_class_name\""), std::string::npos) << wrong.message();
}

}  // namespace
}  // namespace tsdsr::model::sd3

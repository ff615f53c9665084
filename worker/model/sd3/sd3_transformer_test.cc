#include "worker/model/sd3/sd3_transformer.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>
#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "worker/model/sd3/diffusers_config.h"
#include "worker/model/sd3/lora.h"
#include "worker/model/sd3/safetensors.h"
#include "worker/model/sd3/sd3_transformer_embeddings.h"

namespace tsdsr::model::sd3 {
namespace {

using ::testing::HasSubstr;

// A tiny SD3: 3 layers of width 16 (2 heads of 8), 2×2 patches, an 8×8-patch position table.
DiffusersTransformerConfig TinyConfig() {
  DiffusersTransformerConfig c;
  c.sample_size = 8;
  c.patch_size = 2;
  c.in_channels = 4;
  c.num_layers = 3;
  c.attention_head_dim = 8;
  c.num_attention_heads = 2;
  c.joint_attention_dim = 12;
  c.caption_projection_dim = 16;
  c.pooled_projection_dim = 10;
  c.out_channels = 3;
  c.pos_embed_max_size = 8;
  return c;
}

// Random weights under every name diffusers 0.29.2's SD3Transformer2DModel.state_dict() has for `c`, written out
// here independently of the loader.
TensorMap RandomWeights(const DiffusersTransformerConfig& c, uint64_t seed = 1) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  const int64_t d = c.num_attention_heads * c.attention_head_dim;
  const int64_t p = c.patch_size;
  TensorMap w;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    w[name] = at::randn(shape, generator).mul(0.3);
  };
  const auto linear = [&](const std::string& name, int64_t out, int64_t in) {
    add(name + ".weight", {out, in});
    add(name + ".bias", {out});
  };
  add("pos_embed.proj.weight", {d, c.in_channels, p, p});
  add("pos_embed.proj.bias", {d});
  w["pos_embed.pos_embed"] = SincosPosEmbed2d(d, *c.pos_embed_max_size, c.sample_size / p).unsqueeze(0);
  linear("time_text_embed.timestep_embedder.linear_1", d, 256);
  linear("time_text_embed.timestep_embedder.linear_2", d, d);
  linear("time_text_embed.text_embedder.linear_1", d, c.pooled_projection_dim);
  linear("time_text_embed.text_embedder.linear_2", d, d);
  linear("context_embedder", c.caption_projection_dim, c.joint_attention_dim);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string b = "transformer_blocks." + std::to_string(i) + ".";
    const bool last = i == c.num_layers - 1;
    linear(b + "norm1.linear", 6 * d, d);
    linear(b + "norm1_context.linear", (last ? 2 : 6) * d, d);
    for (const char* name : {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj", "to_out.0"}) {
      linear(b + "attn." + name, d, d);
    }
    linear(b + "ff.net.0.proj", 4 * d, d);
    linear(b + "ff.net.2", d, 4 * d);
    if (!last) {
      linear(b + "attn.to_add_out", d, d);
      linear(b + "ff_context.net.0.proj", 4 * d, d);
      linear(b + "ff_context.net.2", d, 4 * d);
    }
  }
  linear("norm_out.linear", 2 * d, d);
  linear("proj_out", p * p * c.out_channels, d);
  return w;
}

struct Inputs {
  at::Tensor latent;
  at::Tensor timestep;
  at::Tensor context;
  at::Tensor pooled;
};

Inputs RandomInputs(const DiffusersTransformerConfig& c, int64_t n, int64_t height, int64_t width,
                    int64_t context_tokens = 5) {
  at::Generator generator = at::detail::createCPUGenerator(7);
  return {at::randn({n, c.in_channels, height, width}, generator), at::full({n}, 1000.0),
          at::randn({n, context_tokens, c.joint_attention_dim}, generator),
          at::randn({n, c.pooled_projection_dim}, generator)};
}

std::unique_ptr<SD3Transformer> Build(const DiffusersTransformerConfig& c, TensorMap weights,
                                      c10::ScalarType dtype = at::kFloat) {
  auto model = SD3Transformer::Create(c, std::move(weights), dtype, c10::Device(c10::kCPU));
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? std::move(model).value() : nullptr;
}

at::Tensor RunOn(const SD3Transformer& model, const Inputs& in) {
  return model.Forward(in.latent, in.timestep, in.context, in.pooled);
}

TEST(SD3TransformerTest, RunsATinyModel) {
  const DiffusersTransformerConfig c = TinyConfig();
  auto model = Build(c, RandomWeights(c));
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->inner_dim(), 16);
  EXPECT_EQ(model->dtype(), at::kFloat);
  // 6×4 latent: a 3×2 patch grid, cropped from the 8×8 table.
  const at::Tensor out = RunOn(*model, RandomInputs(c, 2, 6, 4));
  EXPECT_EQ(out.sizes(), at::IntArrayRef({2, 3, 6, 4}));
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  EXPECT_TRUE(out.isfinite().all().item<bool>());
}

TEST(SD3TransformerTest, ConvertsWeightsToTheGivenDtype) {
  const DiffusersTransformerConfig c = TinyConfig();
  TensorMap doubles = RandomWeights(c);
  for (auto& entry : doubles) entry.second = entry.second.to(at::kDouble);
  auto from_doubles = Build(c, std::move(doubles));
  auto from_floats = Build(c, RandomWeights(c));
  ASSERT_NE(from_doubles, nullptr);
  ASSERT_NE(from_floats, nullptr);
  const Inputs in = RandomInputs(c, 1, 4, 4);
  // Inputs of another dtype are converted too.
  const at::Tensor out = from_doubles->Forward(in.latent.to(at::kDouble), in.timestep, in.context, in.pooled);
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  EXPECT_TRUE(out.allclose(RunOn(*from_floats, in), 1e-5, 1e-5));
}

TEST(SD3TransformerTest, BatchEntriesAreIndependent) {
  const DiffusersTransformerConfig c = TinyConfig();
  auto model = Build(c, RandomWeights(c));
  ASSERT_NE(model, nullptr);
  Inputs batch = RandomInputs(c, 2, 4, 6);
  batch.timestep = at::tensor({1000.0f, 250.0f});
  const at::Tensor out = RunOn(*model, batch);
  for (int64_t i = 0; i < 2; ++i) {
    const at::Tensor one = model->Forward(batch.latent.narrow(0, i, 1), batch.timestep.narrow(0, i, 1),
                                          batch.context.narrow(0, i, 1), batch.pooled.narrow(0, i, 1));
    EXPECT_TRUE(one.allclose(out.narrow(0, i, 1), 1e-4, 1e-5)) << "entry " << i;
  }
  // The timestep matters, and a single timestep serves the whole batch.
  EXPECT_FALSE(out[0].allclose(out[1], 1e-3, 1e-3));
  batch.timestep = at::tensor({1000.0f});
  const at::Tensor shared = RunOn(*model, batch);
  EXPECT_TRUE(shared[0].allclose(out[0], 1e-5, 1e-6));
  EXPECT_FALSE(shared[1].allclose(out[1], 1e-3, 1e-3));
}

TEST(SD3TransformerTest, ComputesThePositionTableWhenNotStored) {
  const DiffusersTransformerConfig c = TinyConfig();
  TensorMap without = RandomWeights(c);
  without.erase("pos_embed.pos_embed");
  TensorMap altered = RandomWeights(c);
  altered["pos_embed.pos_embed"] = altered["pos_embed.pos_embed"].mul(2);
  auto stored = Build(c, RandomWeights(c));
  auto computed = Build(c, std::move(without));
  auto other = Build(c, std::move(altered));
  ASSERT_TRUE(stored && computed && other);
  const Inputs in = RandomInputs(c, 1, 6, 6);
  EXPECT_TRUE(RunOn(*computed, in).allclose(RunOn(*stored, in), 1e-5, 1e-6));
  EXPECT_FALSE(RunOn(*other, in).allclose(RunOn(*stored, in), 1e-3, 1e-3));  // a stored table is used
}

Status CreateStatus(const DiffusersTransformerConfig& c, TensorMap weights, c10::ScalarType dtype = at::kFloat) {
  return SD3Transformer::Create(c, std::move(weights), dtype, c10::Device(c10::kCPU)).status();
}

TEST(SD3TransformerTest, NamesAMissingWeight) {
  const DiffusersTransformerConfig c = TinyConfig();
  TensorMap weights = RandomWeights(c);
  weights.erase("transformer_blocks.1.attn.to_k.weight");
  const Status status = CreateStatus(c, std::move(weights));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'transformer_blocks.1.attn.to_k.weight' is missing"));
  EXPECT_THAT(status.message(), HasSubstr("[16, 16]"));
}

TEST(SD3TransformerTest, NamesAMisshapedWeight) {
  const DiffusersTransformerConfig c = TinyConfig();
  TensorMap weights = RandomWeights(c);
  weights["context_embedder.weight"] = at::randn({16, 11});
  Status status = CreateStatus(c, std::move(weights));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'context_embedder.weight' has shape [16, 11], expected [16, 12]"));

  // The last block's context norm is AdaLayerNormContinuous (2·dim), not AdaLayerNormZero (6·dim).
  weights = RandomWeights(c);
  weights["transformer_blocks.2.norm1_context.linear.weight"] = at::randn({96, 16});
  status = CreateStatus(c, std::move(weights));
  EXPECT_THAT(status.message(), HasSubstr("'transformer_blocks.2.norm1_context.linear.weight' has shape [96, 16]"));

  weights = RandomWeights(c);
  weights["proj_out.bias"] = at::tensor({int64_t{1}});
  status = CreateStatus(c, std::move(weights));
  EXPECT_THAT(status.message(), HasSubstr("'proj_out.bias' is not a floating-point tensor"));
}

TEST(SD3TransformerTest, RefusesWeightsNoLayerTakes) {
  const DiffusersTransformerConfig c = TinyConfig();
  TensorMap weights = RandomWeights(c);
  // The last block is context_pre_only: it has no to_add_out.
  weights["transformer_blocks.2.attn.to_add_out.weight"] = at::randn({16, 16});
  weights["transformer_blocks.3.norm1.linear.bias"] = at::randn({96});
  const Status status = CreateStatus(c, std::move(weights));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("2 weight(s) belong to no layer"));
  EXPECT_THAT(status.message(), HasSubstr("'transformer_blocks.2.attn.to_add_out.weight' [16, 16]"));
  EXPECT_THAT(status.message(), HasSubstr("'transformer_blocks.3.norm1.linear.bias' [96]"));
}

TEST(SD3TransformerTest, RefusesConfigsItCannotBuild) {
  DiffusersTransformerConfig c = TinyConfig();
  c.caption_projection_dim = 12;
  Status status = CreateStatus(c, RandomWeights(TinyConfig()));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("caption_projection_dim 12"));

  c = TinyConfig();
  c.num_layers = 0;
  EXPECT_THAT(CreateStatus(c, {}).message(), HasSubstr("num_layers must be at least 1"));
  c = TinyConfig();
  c.pos_embed_max_size.reset();
  EXPECT_THAT(CreateStatus(c, {}).message(), HasSubstr("pos_embed_max_size is null"));
  c = TinyConfig();
  c.attention_head_dim = 3;  // inner 6: no sin-cos table
  c.caption_projection_dim = 6;
  EXPECT_THAT(CreateStatus(c, {}).message(), HasSubstr("multiple of 4"));
  EXPECT_THAT(CreateStatus(TinyConfig(), RandomWeights(TinyConfig()), at::kInt).message(),
              HasSubstr("dtype must be floating point"));
}

TEST(SD3TransformerTest, RefusesInputsThatDoNotFit) {
  const DiffusersTransformerConfig c = TinyConfig();
  auto model = Build(c, RandomWeights(c));
  ASSERT_NE(model, nullptr);
  const Inputs ok = RandomInputs(c, 1, 4, 4);
  const auto fails = [&](const at::Tensor& latent, const at::Tensor& t, const at::Tensor& context,
                         const at::Tensor& pooled, const std::string& what) {
    try {
      model->Forward(latent, t, context, pooled);
      ADD_FAILURE() << "accepted " << what;
    } catch (const c10::Error& e) {
      EXPECT_THAT(e.what_without_backtrace(), HasSubstr(what));
    }
  };
  fails(at::randn({1, 4, 5, 4}), ok.timestep, ok.context, ok.pooled, "positive multiples of patch_size 2, got 5×4");
  fails(at::randn({1, 4, 18, 4}), ok.timestep, ok.context, ok.pooled, "larger than the position embedding allows");
  fails(at::randn({1, 3, 4, 4}), ok.timestep, ok.context, ok.pooled, "hidden_states must be (N, 4, H, W)");
  fails(ok.latent, at::full({2}, 1.0), ok.context, ok.pooled, "timestep must be (1)");
  fails(ok.latent, ok.timestep, at::randn({1, 5, 11}), ok.pooled, "encoder_hidden_states must be (1, L, 12)");
  fails(ok.latent, ok.timestep, ok.context, at::randn({1, 9}), "pooled_projections must be (1, 10)");
}

TEST(SD3TransformerTest, Bfloat16StaysCloseToFloat32) {
  const DiffusersTransformerConfig c = TinyConfig();
  auto fp32 = Build(c, RandomWeights(c));
  auto bf16 = Build(c, RandomWeights(c), at::kBFloat16);
  ASSERT_TRUE(fp32 && bf16);
  EXPECT_EQ(bf16->dtype(), at::kBFloat16);
  const Inputs in = RandomInputs(c, 1, 4, 4);
  const at::Tensor reference = RunOn(*fp32, in);
  const at::Tensor reduced = RunOn(*bf16, in);
  EXPECT_EQ(reduced.scalar_type(), at::kBFloat16);
  const double error = reduced.to(at::kFloat).sub(reference).abs().max().item<double>();
  EXPECT_LT(error, 0.1 * reference.abs().max().item<double>());
}

// ---- Parity with diffusers 0.29.2 (testdata/, made by tools/make_parity_fixtures.py) ----

const std::string kTestdata = TSDSR_SD3_TESTDATA;
constexpr double kParityTolerance = 1e-4;  // fp32

TensorMap ReadFixture(const std::string& relative) {
  auto tensors = ReadSafetensors(kTestdata + "/" + relative);
  EXPECT_TRUE(tensors.ok()) << tensors.status().message();
  return tensors.ok() ? *tensors : TensorMap();
}

// The fixture transformer (2 layers, width 16, 12×12 position table), with its LoRA merged when `lora`.
std::unique_ptr<SD3Transformer> FixtureTransformer(bool lora) {
  auto config = ReadDiffusersTransformerConfig(kTestdata + "/transformer/config.json");
  EXPECT_TRUE(config.ok()) << config.status().message();
  if (!config.ok()) return nullptr;
  TensorMap weights = ReadFixture("transformer/diffusion_pytorch_model.safetensors");
  if (lora) {
    auto file = ReadSafetensorsFile(kTestdata + "/lora/transformer.safetensors");
    EXPECT_TRUE(file.ok()) << file.status().message();
    if (!file.ok()) return nullptr;
    const LoraOptions options{file->metadata.at("prefix"), std::stod(file->metadata.at("lora_alpha")),
                              std::stoll(file->metadata.at("rank")), "default"};
    const Status merged = MergeLora(file->tensors, options, weights);
    EXPECT_TRUE(merged.ok()) << merged.message();
  }
  return Build(*config, std::move(weights));
}

// Runs the fixture inputs of `case_file` and compares with its output `expected`; prints the largest difference.
void ExpectParity(const SD3Transformer& model, const std::string& case_file, const std::string& latent,
                  const std::string& expected) {
  const TensorMap io = ReadFixture("parity/" + case_file);
  ASSERT_EQ(io.count(latent) + io.count(expected), 2u) << case_file;
  const at::Tensor out =
      model.Forward(io.at(latent), io.at("timestep"), io.at("encoder_hidden_states"), io.at("pooled_projections"));
  ASSERT_EQ(out.sizes(), io.at(expected).sizes());
  const double error = out.to(at::kDouble).sub(io.at(expected).to(at::kDouble)).abs().max().item<double>();
  std::printf("  %s %s: max |difference| %.3g (output max |value| %.3g)\n", case_file.c_str(), expected.c_str(), error,
              io.at(expected).abs().max().item<double>());
  EXPECT_LE(error, kParityTolerance) << case_file << " " << expected;
}

TEST(SD3TransformerParityTest, MatchesDiffusersWithMergedLora) {
  const auto model = FixtureTransformer(/*lora=*/true);
  ASSERT_NE(model, nullptr);
  // A 16×12 latent: an 8×6 patch grid cropped from the 12×12 table at row 2, column 3.
  ExpectParity(*model, "transformer.safetensors", "hidden_states", "sample");
  // Two entries, timesteps 1000 and 250, each its own prompt.
  ExpectParity(*model, "transformer_batch2.safetensors", "hidden_states", "sample");
  // The velocity of one TSD-SR tile (z from the fixture VAE).
  ExpectParity(*model, "tsdsr_step.safetensors", "z", "v");
}

TEST(SD3TransformerParityTest, TheLoraMatters) {
  // So that matching "sample" above shows the merged weights are used: the LoRA moves the output well past the
  // tolerance.
  const TensorMap io = ReadFixture("parity/transformer.safetensors");
  ASSERT_EQ(io.count("sample") + io.count("sample_no_lora"), 2u);
  EXPECT_GT(io.at("sample").sub(io.at("sample_no_lora")).abs().max().item<double>(), 100 * kParityTolerance);
}

TEST(SD3TransformerParityTest, MatchesDiffusersWithoutLora) {
  const auto model = FixtureTransformer(/*lora=*/false);
  ASSERT_NE(model, nullptr);
  ExpectParity(*model, "transformer.safetensors", "hidden_states", "sample_no_lora");
  ExpectParity(*model, "transformer_batch2.safetensors", "hidden_states", "sample_no_lora");
}

TEST(SD3TransformerParityTest, StoredPositionTableIsTheComputedOne) {
  // diffusers saves its sin-cos table as pos_embed.pos_embed; ours must be the same.
  const TensorMap weights = ReadFixture("transformer/diffusion_pytorch_model.safetensors");
  ASSERT_EQ(weights.count("pos_embed.pos_embed"), 1u);
  const at::Tensor stored = weights.at("pos_embed.pos_embed");
  const at::Tensor computed = SincosPosEmbed2d(16, 12, 8).unsqueeze(0);
  EXPECT_TRUE(computed.allclose(stored, 0, 1e-6)) << computed.sub(stored).abs().max().item<double>();
}

}  // namespace
}  // namespace tsdsr::model::sd3

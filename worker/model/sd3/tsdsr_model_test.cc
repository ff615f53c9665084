#include "worker/model/sd3/tsdsr_model.h"

#include <filesystem>
#include <fstream>

#include <ATen/ops/abs.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace tsdsr::model::sd3 {
namespace {

// The tiny checkpoint tools/make_parity_fixtures.py made with diffusers, laid out like the official folders.
const std::string kTestdata = TSDSR_SD3_TESTDATA;

TsdsrOptions FixtureOptions() {
  TsdsrOptions options;
  options.paths = {kTestdata, kTestdata + "/lora", kTestdata + "/embeddings"};
  return options;
}

TensorMap Read(const std::string& path) {
  auto tensors = ReadSafetensors(path);
  EXPECT_TRUE(tensors.ok()) << tensors.status().message();
  return tensors.ok() ? *tensors : TensorMap{};
}

float MaxDiff(const at::Tensor& a, const at::Tensor& b) { return a.sub(b).abs().max().item<float>(); }

std::string TempDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/tsdsr_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// The whole step against diffusers: LR tile → bicubic ×4 → E → T → D, both LoRAs merged at load.
TEST(TsdsrModelTest, MatchesTheReferenceStep) {
  auto model = TsdsrModel::Create(FixtureOptions(), c10::kCPU, c10::kFloat);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->scales(), (std::vector<int>{2, 4}));
  EXPECT_EQ((*model)->pixel_multiple(), 8);  // VAE f = 4, patch 2
  const TensorMap io = Read(kTestdata + "/parity/tsdsr_step.safetensors");
  EXPECT_LT(MaxDiff((*model)->Refine(io.at("upscaled")), io.at("output")), 1e-4);
  const at::Tensor out = (*model)->Forward(io.at("lr"), 4);
  EXPECT_LT(MaxDiff(out, io.at("output").add(1).mul(0.5)), 1e-4);
}

TEST(TsdsrModelTest, AnyTileSizeIsPaddedAndCroppedBack) {
  auto model = TsdsrModel::Create(FixtureOptions(), c10::kCPU, c10::kFloat);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const at::Tensor batch = at::rand({2, 3, 5, 7});
  const at::Tensor out = (*model)->Forward(batch, 2);
  EXPECT_EQ(out.sizes().vec(), (std::vector<int64_t>{2, 3, 10, 14}));
  EXPECT_GE(out.min().item<float>(), 0.0f);
  EXPECT_LE(out.max().item<float>(), 1.0f);
  // Tiles of a batch do not see each other.
  EXPECT_LT(MaxDiff(out[1], (*model)->Forward(batch.narrow(0, 1, 1), 2)[0]), 1e-5);
  EXPECT_THROW((*model)->Forward(batch, 3), c10::Error);
  try {
    (*model)->Forward(at::zeros({1, 3, 30, 30}), 4);  // 120 pixels; this transformer takes 96 a side
    ADD_FAILURE() << "a tile beyond the position table was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("larger than this TSD-SR transformer takes (96 pixels"), std::string::npos);
  }
}

TEST(TsdsrModelTest, SampledLatentsFollowTheSeed) {
  TsdsrOptions options = FixtureOptions();
  options.sample_seed = 7;
  auto first = TsdsrModel::Create(options, c10::kCPU, c10::kFloat);
  auto second = TsdsrModel::Create(options, c10::kCPU, c10::kFloat);
  options.sample_seed = 8;
  auto other = TsdsrModel::Create(options, c10::kCPU, c10::kFloat);
  auto mean = TsdsrModel::Create(FixtureOptions(), c10::kCPU, c10::kFloat);
  ASSERT_TRUE(first.ok() && second.ok() && other.ok() && mean.ok());
  const at::Tensor lr = at::rand({1, 3, 8, 6});
  const at::Tensor a = (*first)->Forward(lr, 4);
  EXPECT_EQ(MaxDiff(a, (*second)->Forward(lr, 4)), 0.0f);
  EXPECT_GT(MaxDiff(a, (*other)->Forward(lr, 4)), 1e-4);
  EXPECT_GT(MaxDiff(a, (*mean)->Forward(lr, 4)), 1e-4);
}

// Real sizes without the files: the configs' networks with random weights, for benchmarks.
TEST(TsdsrModelTest, RandomWeightsFollowTheConfigs) {
  auto model = TsdsrModel::CreateRandom(FixtureOptions(), 7, c10::kCPU, c10::kFloat);
  ASSERT_TRUE(model.ok()) << model.status().message();
  const at::Tensor out = (*model)->Forward(at::rand({1, 3, 6, 10}), 4);
  EXPECT_EQ(out.sizes().vec(), (std::vector<int64_t>{1, 3, 24, 40}));
  EXPECT_TRUE(out.isfinite().all().item<bool>());
  TsdsrOptions elsewhere = FixtureOptions();
  elsewhere.paths.sd3_dir = kTestdata + "/lora";
  EXPECT_NE(TsdsrModel::CreateRandom(elsewhere, 7, c10::kCPU, c10::kFloat).status().message().find(
                "lora/transformer/config.json"),
            std::string::npos);
}

TEST(TsdsrModelTest, MissingFilesAreNamed) {
  TsdsrOptions options = FixtureOptions();
  options.paths.lora_dir = "/nonexistent/lora";
  auto no_lora = TsdsrModel::Create(options, c10::kCPU, c10::kFloat);
  EXPECT_EQ(no_lora.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_lora.status().message().find("/nonexistent/lora/transformer.safetensors"), std::string::npos)
      << no_lora.status().message();
  options = FixtureOptions();
  options.paths.sd3_dir = "/nonexistent/sd3";
  EXPECT_NE(TsdsrModel::Create(options, c10::kCPU, c10::kFloat).status().message().find(
                "/nonexistent/sd3/transformer/config.json"),
            std::string::npos);
  options = FixtureOptions();
  options.paths.embeddings_dir = kTestdata + "/lora";
  EXPECT_NE(TsdsrModel::Create(options, c10::kCPU, c10::kFloat).status().message().find("prompt_embeds.pt"),
            std::string::npos);
}

TEST(TsdsrModelTest, ALoraOfAnotherModelIsRefusedWithTheKey) {
  // The VAE LoRA where the transformer's belongs: its modules are not the transformer's.
  const std::string dir = TempDir("swapped_lora");
  std::filesystem::copy_file(kTestdata + "/lora/vae.safetensors", dir + "/transformer.safetensors");
  std::filesystem::copy_file(kTestdata + "/lora/vae.safetensors", dir + "/vae.safetensors");
  TsdsrOptions options = FixtureOptions();
  options.paths.lora_dir = dir;
  auto model = TsdsrModel::Create(options, c10::kCPU, c10::kFloat);
  ASSERT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(dir + "/transformer.safetensors: "), std::string::npos)
      << model.status().message();
  EXPECT_NE(model.status().message().find("encoder."), std::string::npos) << model.status().message();
}

TEST(TsdsrCheckpointTest, ShardedWeightsFollowTheirIndex) {
  const std::string dir = TempDir("shards");
  const at::Tensor a = at::arange(6, c10::kFloat).reshape({2, 3});
  const at::Tensor b = at::arange(4, c10::kFloat);
  ASSERT_TRUE(WriteSafetensors(dir + "/part-1.safetensors", {{"a.weight", a}}).ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/part-2.safetensors", {{"b.bias", b}}).ok());
  const std::string index = dir + "/diffusion_pytorch_model.safetensors.index.json";
  std::ofstream(index) << R"({"metadata": {}, "weight_map": {"a.weight": "part-1.safetensors",
                                                             "b.bias": "part-2.safetensors"}})";
  auto weights = ReadDiffusersWeights(dir);
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  ASSERT_EQ(weights->size(), 2u);
  EXPECT_EQ(MaxDiff(weights->at("a.weight"), a), 0.0f);
  EXPECT_EQ(MaxDiff(weights->at("b.bias"), b), 0.0f);

  std::ofstream(index) << R"({"weight_map": {"a.weight": "part-2.safetensors"}})";
  EXPECT_NE(ReadDiffusersWeights(dir).status().message().find("part-2.safetensors lacks a.weight"),
            std::string::npos);
  std::ofstream(index) << R"({"weight_map": {"a.weight": "../elsewhere.safetensors"}})";
  EXPECT_NE(ReadDiffusersWeights(dir).status().message().find("maps to no file of the folder"), std::string::npos);
  std::ofstream(index) << "[]";
  EXPECT_NE(ReadDiffusersWeights(dir).status().message().find("is not a safetensors index"), std::string::npos);
  std::filesystem::remove(index);
  EXPECT_EQ(ReadDiffusersWeights(dir).status().code(), StatusCode::kNotFound);
}

TEST(TsdsrCheckpointTest, LoraAlphaComesFromTheFileOrTsdsrsDefault) {
  auto checkpoint = ReadTsdsrCheckpoint(FixtureOptions().paths);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().message();
  // The fixture's alpha is 8 at rank 4: the merged weight differs from the base by 2·B·A.
  const TensorMap base = Read(kTestdata + "/transformer/diffusion_pytorch_model.safetensors");
  const TensorMap lora = Read(kTestdata + "/lora/transformer.safetensors");
  const std::string module = "transformer_blocks.0.attn.to_q";
  const at::Tensor update = lora.at("transformer." + module + ".lora_B.weight")
                                .matmul(lora.at("transformer." + module + ".lora_A.weight"))
                                .mul(2.0);
  EXPECT_LT(MaxDiff(checkpoint->transformer_weights.at(module + ".weight"), base.at(module + ".weight").add(update)),
            1e-6);

  const std::string dir = TempDir("bad_alpha");
  ASSERT_TRUE(WriteSafetensors(dir + "/transformer.safetensors", lora, {{"lora_alpha", "eight"}}).ok());
  std::filesystem::copy_file(kTestdata + "/lora/vae.safetensors", dir + "/vae.safetensors");
  TsdsrPaths paths = FixtureOptions().paths;
  paths.lora_dir = dir;
  EXPECT_NE(ReadTsdsrCheckpoint(paths).status().message().find("lora_alpha 'eight' is not a positive number"),
            std::string::npos);
}

}  // namespace
}  // namespace tsdsr::model::sd3

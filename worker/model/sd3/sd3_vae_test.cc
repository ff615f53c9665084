#include "worker/model/sd3/sd3_vae.h"

#include <string>

#include <ATen/ops/eye.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "worker/model/sd3/diffusers_config.h"
#include "worker/model/sd3/lora.h"
#include "worker/model/sd3/safetensors.h"

namespace tsdsr::model::sd3 {
namespace {

using ::testing::HasSubstr;

const std::string kTestdata = TSDSR_SD3_TESTDATA;
constexpr double kTolerance = 1e-4;  // fp32 parity with diffusers 0.29.2

TensorMap Read(const std::string& relative) {
  auto tensors = ReadSafetensors(kTestdata + "/" + relative);
  EXPECT_TRUE(tensors.ok()) << tensors.status().message();
  return tensors.ok() ? *tensors : TensorMap();
}

DiffusersVaeConfig FixtureConfig() {
  auto config = ReadDiffusersVaeConfig(kTestdata + "/vae/config.json");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : DiffusersVaeConfig();
}

// The fixture VAE's weights, with the fixture's encoder LoRA merged when `lora`.
TensorMap FixtureWeights(bool lora) {
  TensorMap weights = Read("vae/diffusion_pytorch_model.safetensors");
  if (lora) {
    auto file = ReadSafetensorsFile(kTestdata + "/lora/vae.safetensors");
    EXPECT_TRUE(file.ok()) << file.status().message();
    const LoraOptions options{file->metadata.at("prefix"), std::stod(file->metadata.at("lora_alpha")),
                              std::stoll(file->metadata.at("rank")), "default"};
    const Status merged = MergeLora(file->tensors, options, weights);
    EXPECT_TRUE(merged.ok()) << merged.message();
  }
  return weights;
}

std::unique_ptr<SD3Vae> Build(const DiffusersVaeConfig& config, TensorMap weights) {
  auto vae = SD3Vae::Create(config, std::move(weights), at::kFloat, at::kCPU);
  EXPECT_TRUE(vae.ok()) << vae.status().message();
  return vae.ok() ? std::move(*vae) : nullptr;
}

::testing::AssertionResult Close(const at::Tensor& actual, const at::Tensor& expected, double tolerance = kTolerance) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << "shape " << actual.sizes() << ", expected " << expected.sizes();
  }
  const double diff = actual.to(at::kDouble).sub(expected.to(at::kDouble)).abs().max().item<double>();
  if (diff > tolerance) return ::testing::AssertionFailure() << "max |difference| " << diff << " > " << tolerance;
  return ::testing::AssertionSuccess() << "max |difference| " << diff;
}

std::string CreateError(const DiffusersVaeConfig& config, TensorMap weights) {
  return SD3Vae::Create(config, std::move(weights), at::kFloat, at::kCPU).status().message();
}

TEST(SD3VaeTest, EncoderWithMergedLoraMatchesDiffusers) {
  const auto vae = Build(FixtureConfig(), FixtureWeights(/*lora=*/true));
  ASSERT_NE(vae, nullptr);
  const TensorMap io = Read("parity/vae_encode.safetensors");
  const VaeLatentDist dist = vae->Encode(io.at("image"));
  EXPECT_TRUE(Close(dist.mean, io.at("mean")));
  EXPECT_TRUE(Close(dist.logvar, io.at("logvar")));
  EXPECT_TRUE(Close(dist.logvar.mul(0.5).exp(), io.at("std")));
  EXPECT_FALSE(Close(dist.mean, io.at("mean_no_lora"), 0.1));  // the LoRA matters
}

TEST(SD3VaeTest, EncoderWithoutLoraMatchesDiffusers) {
  const auto vae = Build(FixtureConfig(), FixtureWeights(/*lora=*/false));
  ASSERT_NE(vae, nullptr);
  const TensorMap io = Read("parity/vae_encode.safetensors");
  const VaeLatentDist dist = vae->Encode(io.at("image"));
  EXPECT_TRUE(Close(dist.mean, io.at("mean_no_lora")));
  EXPECT_TRUE(Close(dist.logvar, io.at("logvar_no_lora")));
}

TEST(SD3VaeTest, DecoderMatchesDiffusers) {
  const auto vae = Build(FixtureConfig(), FixtureWeights(/*lora=*/false));
  ASSERT_NE(vae, nullptr);
  EXPECT_EQ(vae->downscale_factor(), 4);
  const TensorMap io = Read("parity/vae_decode.safetensors");
  EXPECT_TRUE(Close(vae->Decode(io.at("latent")), io.at("image")));
}

TEST(SD3VaeTest, TsdsrStepEncodeAndDecodeMatchDiffusers) {
  const DiffusersVaeConfig config = FixtureConfig();
  const auto vae = Build(config, FixtureWeights(/*lora=*/true));
  ASSERT_NE(vae, nullptr);
  const TensorMap io = Read("parity/tsdsr_step.safetensors");
  EXPECT_TRUE(Close(vae->Encode(io.at("upscaled")).mean.mul(config.scaling_factor), io.at("z")));
  EXPECT_TRUE(Close(vae->Decode(io.at("z0").div(config.scaling_factor)), io.at("decoded")));
}

TEST(SD3VaeTest, QuantConvsAreAppliedWhenTheConfigHasThem) {
  DiffusersVaeConfig config = FixtureConfig();
  config.use_quant_conv = config.use_post_quant_conv = true;
  TensorMap weights = FixtureWeights(/*lora=*/false);
  const int64_t latent = config.latent_channels;
  // quant_conv doubles the logvar half; post_quant_conv is the identity.
  at::Tensor quant = at::eye(2 * latent).reshape({2 * latent, 2 * latent, 1, 1});
  quant.slice(0, latent).mul_(2);
  weights["quant_conv.weight"] = quant;
  weights["quant_conv.bias"] = at::zeros({2 * latent});
  weights["post_quant_conv.weight"] = at::eye(latent).reshape({latent, latent, 1, 1});
  weights["post_quant_conv.bias"] = at::zeros({latent});
  const auto vae = Build(config, weights);
  ASSERT_NE(vae, nullptr);
  const TensorMap enc = Read("parity/vae_encode.safetensors");
  const VaeLatentDist dist = vae->Encode(enc.at("image"));
  EXPECT_TRUE(Close(dist.mean, enc.at("mean_no_lora")));
  EXPECT_TRUE(Close(dist.logvar, enc.at("logvar_no_lora").mul(2)));
  const TensorMap dec = Read("parity/vae_decode.safetensors");
  EXPECT_TRUE(Close(vae->Decode(dec.at("latent")), dec.at("image")));
}

TEST(SD3VaeTest, RefusesMissingMisshapedAndUnusedWeightsNamingThem) {
  const DiffusersVaeConfig config = FixtureConfig();
  TensorMap weights = FixtureWeights(false);
  weights.erase("decoder.up_blocks.1.resnets.2.norm2.bias");
  EXPECT_THAT(CreateError(config, weights), HasSubstr("'decoder.up_blocks.1.resnets.2.norm2.bias' is missing"));
  weights = FixtureWeights(false);
  weights["encoder.down_blocks.1.resnets.0.conv_shortcut.weight"] = at::zeros({16, 8, 3, 3});
  EXPECT_THAT(CreateError(config, weights),
              HasSubstr("'encoder.down_blocks.1.resnets.0.conv_shortcut.weight' has shape [16, 8, 3, 3]"));
  weights = FixtureWeights(false);
  weights["encoder.mid_block.attentions.0.query.weight"] = at::zeros({16, 16});
  EXPECT_THAT(CreateError(config, weights), HasSubstr("'encoder.mid_block.attentions.0.query.weight'"));
  weights = FixtureWeights(false);
  weights["quant_conv.weight"] = at::zeros({32, 32, 1, 1});  // the config says use_quant_conv false
  EXPECT_THAT(CreateError(config, weights), HasSubstr("belong to no layer"));
  DiffusersVaeConfig deeper = config;  // a config the weights were not made for
  deeper.layers_per_block = 3;
  EXPECT_THAT(CreateError(deeper, FixtureWeights(false)), HasSubstr("'encoder.down_blocks.0.resnets.2.norm1.weight'"));
}

TEST(SD3VaeTest, RefusesBadConfigsAndDtypes) {
  DiffusersVaeConfig config = FixtureConfig();
  config.norm_num_groups = 3;
  EXPECT_THAT(CreateError(config, {}), HasSubstr("block_out_channels"));
  config = FixtureConfig();
  config.up_block_types.pop_back();
  EXPECT_THAT(CreateError(config, {}), HasSubstr("up_block_types"));
  config = FixtureConfig();
  config.down_block_types[0] = "AttnDownEncoderBlock2D";
  EXPECT_THAT(CreateError(config, {}), HasSubstr("down_block_types"));
  EXPECT_THAT(SD3Vae::Create(FixtureConfig(), FixtureWeights(false), at::kInt, at::kCPU).status().message(),
              HasSubstr("not floating point"));
}

TEST(SD3VaeTest, RefusesInputsOfTheWrongShape) {
  const auto vae = Build(FixtureConfig(), FixtureWeights(false));
  ASSERT_NE(vae, nullptr);
  EXPECT_THROW(vae->Encode(at::zeros({1, 4, 16, 16})), c10::Error);
  EXPECT_THROW(vae->Encode(at::zeros({3, 16, 16})), c10::Error);
  EXPECT_THROW(vae->Encode(at::zeros({1, 3, 18, 16})), c10::Error);  // not a multiple of 4
  EXPECT_THROW(vae->Decode(at::zeros({1, 4, 4, 4})), c10::Error);
  try {
    vae->Decode(at::zeros({1, 4, 4, 4}));
  } catch (const c10::Error& e) {
    EXPECT_THAT(e.what_without_backtrace(), HasSubstr("latent must be (N, 16, H, W)"));
  }
}

TEST(SD3VaeTest, RunsInHalfPrecisionCloseToFloat) {
  const TensorMap io = Read("parity/vae_decode.safetensors");
  auto vae = SD3Vae::Create(FixtureConfig(), FixtureWeights(false), at::kBFloat16, at::kCPU);
  ASSERT_TRUE(vae.ok()) << vae.status().message();
  const at::Tensor image = (*vae)->Decode(io.at("latent"));
  EXPECT_EQ(image.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(Close(image, io.at("image"), 0.15));
}

}  // namespace
}  // namespace tsdsr::model::sd3

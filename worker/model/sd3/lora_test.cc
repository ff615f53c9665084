#include "worker/model/sd3/lora.h"

#include <string>
#include <vector>

#include <ATen/ops/allclose.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>
#include <gtest/gtest.h>

#include "worker/model/sd3/safetensors.h"

namespace tsdsr::model::sd3 {
namespace {

at::Tensor T(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  return at::tensor(values, at::kFloat).reshape(shape);
}

::testing::AssertionResult FailsNaming(const Status& status, const std::string& key, const std::string& what) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "not InvalidArgument: '" << status.message() << "'";
  }
  const std::string& m = status.message();
  if (m.find("'" + key + "'") == std::string::npos || m.find(what) == std::string::npos) {
    return ::testing::AssertionFailure() << "'" << m << "' does not name '" << key << "' and say '" << what << "'";
  }
  return ::testing::AssertionSuccess();
}

const LoraOptions kOptions{"transformer.", 2.0, 0, "default"};

TEST(LoraTest, MergesALinearLoraScaledByAlphaOverRank) {
  TensorMap base = {{"blocks.0.to_q.weight", T({1, 0, 0, 0, 1, 0}, {2, 3})}, {"blocks.0.to_q.bias", T({5, 6}, {2})}};
  const TensorMap lora = {{"transformer.blocks.0.to_q.lora_A.weight", T({1, 2, 3}, {1, 3})},
                          {"transformer.blocks.0.to_q.lora_B.weight", T({1, 2}, {2, 1})}};
  ASSERT_TRUE(MergeLora(lora, kOptions, base).ok());
  // rank 1, alpha 2: W + 2 · [[1, 2, 3], [2, 4, 6]]
  EXPECT_TRUE(at::equal(base.at("blocks.0.to_q.weight"), T({3, 4, 6, 4, 9, 12}, {2, 3})));
  EXPECT_TRUE(at::equal(base.at("blocks.0.to_q.bias"), T({5, 6}, {2})));  // biases are not adapted
}

TEST(LoraTest, MergesRankTwoWithTheAdapterNameInTheKeys) {
  TensorMap base = {{"proj_out.weight", at::zeros({2, 2})}};
  const TensorMap lora = {{"transformer.proj_out.lora_A.default.weight", T({1, 0, 0, 1}, {2, 2})},
                          {"transformer.proj_out.lora_B.default.weight", T({1, 2, 3, 4}, {2, 2})}};
  ASSERT_TRUE(MergeLora(lora, {"transformer.", 4.0, 2, "default"}, base).ok());
  EXPECT_TRUE(at::equal(base.at("proj_out.weight"), T({2, 4, 6, 8}, {2, 2})));  // 4/2 · B·I
}

TEST(LoraTest, MergesAConv2dLoraWithAKernel) {
  TensorMap base = {{"pos_embed.proj.weight", at::zeros({2, 1, 2, 2})}};
  const TensorMap lora = {{"transformer.pos_embed.proj.lora_A.weight", T({1, 2, 3, 4}, {1, 1, 2, 2})},
                          {"transformer.pos_embed.proj.lora_B.weight", T({1, -1}, {2, 1, 1, 1})}};
  ASSERT_TRUE(MergeLora(lora, {"transformer.", 1.0, 1, "default"}, base).ok());
  EXPECT_TRUE(at::equal(base.at("pos_embed.proj.weight"), T({1, 2, 3, 4, -1, -2, -3, -4}, {2, 1, 2, 2})));
}

TEST(LoraTest, KeepsTheBaseDtypeAndLeavesSharedTensorsAlone) {
  const at::Tensor original = at::zeros({1, 2}, at::kHalf);
  TensorMap base = {{"m.weight", original}};
  const TensorMap lora = {{"m.lora_A.weight", T({1, 1}, {1, 2})}, {"m.lora_B.weight", T({0.5}, {1, 1})}};
  ASSERT_TRUE(MergeLora(lora, {"", 1.0, 0, "default"}, base).ok());
  EXPECT_EQ(base.at("m.weight").scalar_type(), at::kHalf);
  EXPECT_TRUE(at::equal(base.at("m.weight"), T({0.5, 0.5}, {1, 2}).to(at::kHalf)));
  EXPECT_TRUE(at::equal(original, at::zeros({1, 2}, at::kHalf)));
}

TEST(LoraTest, RefusesKeysThatDoNotBelong) {
  TensorMap base = {{"m.weight", at::zeros({2, 2})}};
  const at::Tensor a = at::zeros({1, 2});
  const at::Tensor b = at::zeros({2, 1});
  EXPECT_TRUE(FailsNaming(MergeLora({{"unet.m.lora_A.weight", a}}, kOptions, base), "unet.m.lora_A.weight",
                          "does not start with \"transformer.\""));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_A.bias", a}}, kOptions, base), "transformer.m.lora_A.bias",
                          "not a lora_A or lora_B weight"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_magnitude_vector", a}}, kOptions, base),
                          "transformer.m.lora_magnitude_vector", "not a lora_A or lora_B weight"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_A.other.weight", a}}, kOptions, base),
                          "transformer.m.lora_A.other.weight", "not a lora_A or lora_B weight"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.lora_A.weight", a}}, kOptions, base), "transformer.lora_A.weight",
                          "not a lora_A or lora_B weight"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_A.weight", a},
                                     {"transformer.m.lora_A.default.weight", a},
                                     {"transformer.m.lora_B.weight", b}},
                                    kOptions, base),
                          "transformer.m.lora_A.weight", "already has it"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_A.weight", a.to(at::kLong)}}, kOptions, base),
                          "transformer.m.lora_A.weight", "not a floating-point"));
}

TEST(LoraTest, RefusesHalfPairsMissingBaseWeightsAndMisfits) {
  TensorMap base = {
      {"m.weight", at::zeros({2, 3})}, {"c.weight", at::zeros({2, 3, 3, 3})}, {"n.weight", at::zeros({4})}};
  const TensorMap original = base;
  auto merge = [&](const at::Tensor& a, const at::Tensor& b, const std::string& module = "m") {
    return MergeLora({{"transformer." + module + ".lora_A.weight", a}, {"transformer." + module + ".lora_B.weight", b}},
                     kOptions, base);
  };
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_A.weight", at::zeros({1, 3})}}, kOptions, base),
                          "transformer.m.lora_A.weight", "no matching lora_B"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_B.weight", at::zeros({2, 1})}}, kOptions, base),
                          "transformer.m.lora_B.weight", "no matching lora_A"));
  EXPECT_TRUE(FailsNaming(merge(at::zeros({1, 3}), at::zeros({2, 1}), "x"), "transformer.x.lora_A.weight",
                          "no weight 'x.weight'"));
  EXPECT_TRUE(FailsNaming(merge(at::zeros({1, 4}), at::zeros({2, 1})), "transformer.m.lora_A.weight", "does not fit"));
  EXPECT_TRUE(FailsNaming(merge(at::zeros({1, 3}), at::zeros({3, 1})), "transformer.m.lora_B.weight", "does not fit"));
  EXPECT_TRUE(FailsNaming(merge(at::zeros({2, 3}), at::zeros({2, 1})), "transformer.m.lora_B.weight", "does not fit"));
  EXPECT_TRUE(FailsNaming(merge(at::zeros({1, 3, 3, 3}), at::zeros({2, 1, 3, 3}), "c"), "transformer.c.lora_B.weight",
                          "does not fit"));
  EXPECT_TRUE(
      FailsNaming(merge(at::zeros({1, 3}), at::zeros({2, 1}), "c"), "transformer.c.lora_A.weight", "does not fit"));
  EXPECT_TRUE(FailsNaming(merge(at::zeros({1, 4}), at::zeros({4, 1}), "n"), "transformer.n.lora_A.weight",
                          "neither Linear nor Conv2d"));
  EXPECT_TRUE(FailsNaming(MergeLora({{"transformer.m.lora_A.weight", at::zeros({1, 3})},
                                     {"transformer.m.lora_B.weight", at::zeros({2, 1})}},
                                    {"transformer.", 1.0, 64, "default"}, base),
                          "transformer.m.lora_A.weight", "rank 1, expected 64"));
  EXPECT_EQ(MergeLora({}, {"", 0.0, 0, "default"}, base).code(), StatusCode::kInvalidArgument);
  for (const auto& [key, t] : original) EXPECT_TRUE(base.at(key).is_same(t)) << key;
}

TEST(LoraTest, IsAllOrNothing) {
  TensorMap base = {{"a.weight", at::zeros({1, 1})}, {"b.weight", at::zeros({1, 1})}};
  const TensorMap lora = {{"a.lora_A.weight", at::ones({1, 1})},
                          {"a.lora_B.weight", at::ones({1, 1})},
                          {"b.lora_A.weight", at::ones({1, 2})},
                          {"b.lora_B.weight", at::ones({1, 1})}};
  EXPECT_TRUE(FailsNaming(MergeLora(lora, {"", 1.0, 0, "default"}, base), "b.lora_A.weight", "does not fit"));
  EXPECT_TRUE(at::equal(base.at("a.weight"), at::zeros({1, 1})));  // "a" was fine but is not merged either
}

// The fixture LoRAs (made like TSD-SR's files) fit the fixture models exactly: every key merges, and every
// adapted weight changes by the expected amount.
TEST(LoraTest, TheFixtureLorasMergeIntoTheFixtureModels) {
  const std::string testdata = TSDSR_SD3_TESTDATA;
  for (const std::string model : {"transformer", "vae"}) {
    auto base = ReadSafetensors(testdata + "/" + model + "/diffusion_pytorch_model.safetensors");
    auto lora = ReadSafetensorsFile(testdata + "/lora/" + model + ".safetensors");
    ASSERT_TRUE(base.ok() && lora.ok()) << base.status().message() << lora.status().message();
    EXPECT_EQ(lora->metadata.at("prefix"), kTsdsrLoraPrefix);
    const LoraOptions options{kTsdsrLoraPrefix, std::stod(lora->metadata.at("lora_alpha")),
                              std::stoll(lora->metadata.at("rank")), "default"};
    TensorMap merged = *base;
    ASSERT_TRUE(MergeLora(lora->tensors, options, merged).ok()) << model;
    size_t changed = 0;
    for (const auto& [key, weight] : *base) {
      if (!at::equal(weight, merged.at(key))) ++changed;
    }
    EXPECT_EQ(changed * 2, lora->tensors.size()) << model;                             // one weight per A/B pair
    const std::string module = model == "vae" ? "encoder.conv_in" : "pos_embed.proj";  // both Conv2d
    const at::Tensor a = lora->tensors.at("transformer." + module + ".lora_A.weight").flatten(1);
    const at::Tensor b = lora->tensors.at("transformer." + module + ".lora_B.weight").flatten(1);
    const at::Tensor expected =
        base->at(module + ".weight")
            .add(at::mm(b, a).view_as(base->at(module + ".weight")), options.alpha / options.rank);
    EXPECT_TRUE(at::allclose(merged.at(module + ".weight"), expected, 1e-6, 1e-6)) << model;
  }
}

}  // namespace
}  // namespace tsdsr::model::sd3

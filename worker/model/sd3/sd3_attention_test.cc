#include "worker/model/sd3/sd3_attention.h"

#include <cmath>
#include <vector>

#include <ATen/ops/cat.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace tsdsr::model::sd3 {
namespace {

TEST(PlainAttentionTest, MatchesHandComputedValues) {
  // One query q = (1, 0) over keys (1, 0) and (0, 1): scores 1/√2 and 0, weights softmax of those.
  const at::Tensor q = at::tensor({1.0f, 0.0f}).reshape({1, 1, 2});
  const at::Tensor k = at::tensor({1.0f, 0.0f, 0.0f, 1.0f}).reshape({1, 2, 2});
  const at::Tensor v = at::tensor({10.0f, 0.0f, 0.0f, 20.0f}).reshape({1, 2, 2});
  const double e = std::exp(1.0 / std::sqrt(2.0));
  const double w0 = e / (e + 1.0);
  const at::Tensor out = PlainAttention(q, k, v);
  ASSERT_EQ(out.sizes(), at::IntArrayRef({1, 1, 2}));
  EXPECT_NEAR(out[0][0][0].item<float>(), 10.0 * w0, 1e-5);
  EXPECT_NEAR(out[0][0][1].item<float>(), 20.0 * (1.0 - w0), 1e-5);
}

TEST(PlainAttentionTest, EqualKeysAverageTheValues) {
  const at::Tensor q = at::randn({2, 3, 5, 4});
  const at::Tensor k = at::ones({2, 3, 7, 4});
  const at::Tensor v = at::randn({2, 3, 7, 4});
  EXPECT_TRUE(PlainAttention(q, k, v).allclose(v.mean(2, true).expand({2, 3, 5, 4}), 1e-5, 1e-6));
}

TEST(MultiHeadAttentionTest, SplitsAndMergesHeads) {
  // (N, S, heads·d) with 3 heads of 4 channels; fewer queries than keys (the last SD3 block's case).
  const at::Tensor q = at::randn({2, 5, 12});
  const at::Tensor k = at::randn({2, 9, 12});
  const at::Tensor v = at::randn({2, 9, 12});
  const at::Tensor out = MultiHeadAttention(q, k, v, 3);
  ASSERT_EQ(out.sizes(), at::IntArrayRef({2, 5, 12}));
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < 3; ++h) {
    heads.push_back(PlainAttention(q.narrow(2, 4 * h, 4), k.narrow(2, 4 * h, 4), v.narrow(2, 4 * h, 4)));
  }
  EXPECT_TRUE(out.allclose(at::cat(heads, 2), 1e-5, 1e-6));
}

TEST(MultiHeadAttentionTest, ReducedPrecisionStaysClose) {
  const at::Tensor q = at::randn({1, 6, 8});
  const at::Tensor k = at::randn({1, 6, 8});
  const at::Tensor v = at::randn({1, 6, 8});
  const at::Tensor reference = MultiHeadAttention(q, k, v, 2);
  const at::Tensor bf16 = MultiHeadAttention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16), 2);
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(bf16.to(at::kFloat).allclose(reference, 0.05, 0.05));
}

TEST(MultiHeadAttentionTest, RefusesShapesThatDoNotFit) {
  const at::Tensor x = at::randn({1, 4, 12});
  EXPECT_THROW(MultiHeadAttention(x, x, x, 5), c10::Error);
  EXPECT_THROW(MultiHeadAttention(x, x, at::randn({1, 3, 12}), 3), c10::Error);
  EXPECT_THROW(MultiHeadAttention(x, at::randn({1, 4, 8}), at::randn({1, 4, 8}), 2), c10::Error);
}

}  // namespace
}  // namespace tsdsr::model::sd3

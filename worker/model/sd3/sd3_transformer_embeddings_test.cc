#include "worker/model/sd3/sd3_transformer_embeddings.h"

#include <cmath>
#include <vector>

#include <ATen/ops/arange.h>
#include <ATen/ops/tensor.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace tsdsr::model::sd3 {
namespace {

// Expects row `row` of the 2-D float tensor `t` to be `expected`, each within `tolerance`.
void ExpectRow(const at::Tensor& t, int64_t row, const std::vector<double>& expected, double tolerance) {
  ASSERT_EQ(t.size(1), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(t[row][static_cast<int64_t>(i)].item<float>(), expected[i], tolerance)
        << "row " << row << ", column " << i;
  }
}

TEST(SincosPosEmbed2dTest, MatchesHandComputedValues) {
  // 3×3 grid, base size 2: positions i / 1.5 = 0, 2/3, 4/3. Width 8: F = 2 frequencies, ω = 1 and 1/100.
  const at::Tensor table = SincosPosEmbed2d(8, 3, 2);
  ASSERT_EQ(table.sizes(), at::IntArrayRef({9, 8}));
  EXPECT_EQ(table.scalar_type(), at::kFloat);
  ExpectRow(table, 0, {0, 0, 1, 1, 0, 0, 1, 1}, 1e-7);
  // Token (row 2, col 1): the column's sin, cos come first, then the row's.
  const double c = 2.0 / 3.0;
  const double r = 4.0 / 3.0;
  ExpectRow(table, 2 * 3 + 1,
            {std::sin(c), std::sin(c / 100), std::cos(c), std::cos(c / 100), std::sin(r), std::sin(r / 100),
             std::cos(r), std::cos(r / 100)},
            1e-6);
}

TEST(SincosPosEmbed2dTest, Sd3SizeMatchesFormula) {
  // SD3 medium: width 1536, a 96×96 table for base size 64 (positions i·2/3).
  const at::Tensor table = SincosPosEmbed2d(1536, 96, 64);
  ASSERT_EQ(table.sizes(), at::IntArrayRef({96 * 96, 1536}));
  const int64_t row = 95;
  const int64_t col = 40;
  const double pr = 95 / 1.5;
  const double pc = 40 / 1.5;
  const int64_t token = row * 96 + col;
  for (int64_t k : {0, 1, 100, 383}) {
    const double omega = std::pow(10000.0, -k / 384.0);
    EXPECT_NEAR(table[token][k].item<float>(), std::sin(pc * omega), 1e-5) << k;
    EXPECT_NEAR(table[token][384 + k].item<float>(), std::cos(pc * omega), 1e-5) << k;
    EXPECT_NEAR(table[token][768 + k].item<float>(), std::sin(pr * omega), 1e-5) << k;
    EXPECT_NEAR(table[token][1152 + k].item<float>(), std::cos(pr * omega), 1e-5) << k;
  }
}

TEST(SincosPosEmbed2dTest, RefusesWidthsThatAreNotMultiplesOfFour) {
  EXPECT_THROW(SincosPosEmbed2d(6, 3, 3), c10::Error);
  EXPECT_THROW(SincosPosEmbed2d(0, 3, 3), c10::Error);
  EXPECT_THROW(SincosPosEmbed2d(8, 0, 3), c10::Error);
}

TEST(CropPosEmbedTest, TakesTheCentre) {
  // A 5×5 table whose token (r, c) holds r·10 + c in both columns.
  const at::Tensor ids = at::arange(25, at::kFloat);
  const at::Tensor table = (ids.div(5).floor().mul(10).add(ids.remainder(5))).unsqueeze(1).repeat({1, 2});
  // 2 rows × 3 columns: top = (5 − 2) / 2 = 1, left = (5 − 3) / 2 = 1.
  const at::Tensor crop = CropPosEmbed(table, 5, 2, 3);
  ASSERT_EQ(crop.sizes(), at::IntArrayRef({6, 2}));
  const std::vector<float> expected = {11, 12, 13, 21, 22, 23};
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(crop[i][0].item<float>(), expected[i]) << i;
  // The whole table is itself.
  EXPECT_TRUE(CropPosEmbed(table, 5, 5, 5).equal(table));
  EXPECT_THROW(CropPosEmbed(table, 5, 6, 1), c10::Error);
  EXPECT_THROW(CropPosEmbed(table, 4, 2, 2), c10::Error);
}

TEST(TimestepSinusoidTest, MatchesHandComputedValues) {
  // dim 8: h = 4 frequencies exp(−ln(10000)·j/4) = 1, 0.1, 0.01, 0.001; cos first (flip_sin_to_cos).
  const at::Tensor emb = TimestepSinusoid(at::tensor({0.0, 1.0, 500.0}), 8);
  ASSERT_EQ(emb.sizes(), at::IntArrayRef({3, 8}));
  EXPECT_EQ(emb.scalar_type(), at::kFloat);
  ExpectRow(emb, 0, {1, 1, 1, 1, 0, 0, 0, 0}, 1e-7);
  ExpectRow(emb, 1,
            {std::cos(1.0), std::cos(0.1), std::cos(0.01), std::cos(0.001), std::sin(1.0), std::sin(0.1),
             std::sin(0.01), std::sin(0.001)},
            1e-6);
  ExpectRow(emb, 2,
            {std::cos(500.0), std::cos(50.0), std::cos(5.0), std::cos(0.5), std::sin(500.0), std::sin(50.0),
             std::sin(5.0), std::sin(0.5)},
            1e-4);
}

TEST(TimestepSinusoidTest, Sd3TimestepThousand) {
  // What TSD-SR feeds: t = 1000 in 256 channels (integer timesteps are accepted too).
  const at::Tensor emb = TimestepSinusoid(at::tensor({int64_t{1000}}), 256);
  ASSERT_EQ(emb.sizes(), at::IntArrayRef({1, 256}));
  for (int64_t j : {0, 1, 64, 127}) {
    const double angle = 1000.0 * std::exp(-std::log(10000.0) * j / 128.0);
    EXPECT_NEAR(emb[0][j].item<float>(), std::cos(angle), 2e-4) << j;
    EXPECT_NEAR(emb[0][128 + j].item<float>(), std::sin(angle), 2e-4) << j;
  }
}

TEST(TimestepSinusoidTest, OddWidthEndsWithZero) {
  // dim 7: h = 3 frequencies exp(−ln(10000)·j/3), then a zero column.
  const at::Tensor emb = TimestepSinusoid(at::tensor({2.0f}), 7);
  ASSERT_EQ(emb.sizes(), at::IntArrayRef({1, 7}));
  std::vector<double> expected(7, 0.0);
  for (int j = 0; j < 3; ++j) {
    const double angle = 2.0 * std::exp(-std::log(10000.0) * j / 3.0);
    expected[j] = std::cos(angle);
    expected[3 + j] = std::sin(angle);
  }
  ExpectRow(emb, 0, expected, 1e-6);
}

TEST(TimestepSinusoidTest, RefusesBadArguments) {
  EXPECT_THROW(TimestepSinusoid(at::tensor({1.0f}), 1), c10::Error);
  EXPECT_THROW(TimestepSinusoid(at::tensor({1.0f}).reshape({1, 1}), 8), c10::Error);
}

}  // namespace
}  // namespace tsdsr::model::sd3

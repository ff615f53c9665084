#include "worker/model/color_fix.h"

#include <vector>

#include <ATen/ops/conv2d.h>
#include <ATen/ops/full.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/replication_pad2d.h>
#include <ATen/ops/tensor.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

double MaxAbsDifference(const at::Tensor& a, const at::Tensor& b) {
  return a.to(at::kDouble).sub(b.to(at::kDouble)).abs().max().item<double>();
}

// The 3×4 single-channel image the hand-computed tests use:
//   0 4 8 2
//   6 1 3 9
//   5 7 2 0
at::Tensor SmallImage() {
  return at::tensor(std::vector<float>{0, 4, 8, 2, 6, 1, 3, 9, 5, 7, 2, 0}).view({1, 1, 3, 4});
}

// TSD-SR's formulation, written independently: replicate-pad by the dilation, then a grouped 3×3 convolution.
at::Tensor ReferenceBlur(const at::Tensor& image, int64_t d) {
  const int64_t channels = image.size(1);
  const at::Tensor kernel =
      at::tensor(std::vector<float>{1, 2, 1, 2, 4, 2, 1, 2, 1}).div_(16).view({1, 1, 3, 3}).repeat({channels, 1, 1, 1});
  const std::vector<int64_t> stride = {1, 1};
  const std::vector<int64_t> padding = {0, 0};
  const std::vector<int64_t> dilation = {d, d};
  return at::conv2d(at::replication_pad2d(image, {d, d, d, d}), kernel, c10::nullopt, stride, padding, dilation,
                    channels);
}

at::Tensor ReferenceLow(at::Tensor image) {
  for (int level = 0; level < kWaveletLevels; ++level) image = ReferenceBlur(image, int64_t{1} << level);
  return image;
}

TEST(ColorFixTest, ParsesTheFlagValues) {
  for (ColorFix fix : {ColorFix::kNone, ColorFix::kWavelet, ColorFix::kAdain}) {
    auto parsed = ParseColorFix(ColorFixName(fix));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, fix);
  }
  EXPECT_EQ(ColorFixName(ColorFix::kWavelet), "wavelet");
  auto bad = ParseColorFix("Wavelet");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "colour fix must be none, wavelet or adain, got 'Wavelet'");
}

TEST(ColorFixTest, OneLevelBlurMatchesHandComputedSums) {
  const at::Tensor blur1 = WaveletBlur(SmallImage(), 1);
  // (1,1): centre 1·4, edge neighbours (4+7+6+3)·2, corners (0+8+5+2)·1 → 59/16.
  EXPECT_FLOAT_EQ(blur1[0][0][1][1].item<float>(), 59.0f / 16);
  // (0,0), replicated: rows {0,0,1} × columns {0,0,1} → 0·(1+2+2+4) + 4·(1+2) + 6·(1+2) + 1·1 = 31/16.
  EXPECT_FLOAT_EQ(blur1[0][0][0][0].item<float>(), 31.0f / 16);
  const at::Tensor blur2 = WaveletBlur(SmallImage(), 2);
  // (1,1), dilation 2: rows {0,1,2} (row 3 → 2) × columns {0,1,3} (−1 → 0):
  // (0 + 2·4 + 2) + (2·6 + 4·1 + 2·9) + (5 + 2·7 + 0) = 63/16.
  EXPECT_FLOAT_EQ(blur2[0][0][1][1].item<float>(), 63.0f / 16);
  // (2,3), dilation 2: rows {0,2,2} × columns {1,3,3}: (4 + 2·2 + 2) + (2·7 + 0 + 0) + (7 + 0 + 0) = 31/16.
  EXPECT_FLOAT_EQ(blur2[0][0][2][3].item<float>(), 31.0f / 16);
}

TEST(ColorFixTest, ConstantImagesStayConstant) {
  const at::Tensor grey = at::full({1, 3, 5, 7}, 0.3f);
  EXPECT_LT(MaxAbsDifference(WaveletBlur(grey, 4), grey), 1e-7);
  EXPECT_LT(MaxAbsDifference(WaveletLowFrequency(grey), grey), 1e-6);
  // A constant reference gives a constant low band: flat content comes out at the reference's level.
  const at::Tensor dark = at::full({1, 3, 5, 7}, 0.05f);
  EXPECT_LT(MaxAbsDifference(WaveletColorFix(grey, dark), dark), 1e-6);
}

TEST(ColorFixTest, WaveletMatchesTsdsrFormulationOnRandomImages) {
  // Sizes below the largest dilation (16) included: replicate padding reaches past the whole image there.
  const std::vector<std::vector<int64_t>> shapes = {{1, 3, 40, 56}, {2, 3, 5, 3}, {1, 3, 1, 1}};
  for (const std::vector<int64_t>& shape : shapes) {
    SCOPED_TRACE(at::IntArrayRef(shape));
    const at::Tensor content = at::rand(shape);
    const at::Tensor reference = at::rand(shape);
    EXPECT_LT(MaxAbsDifference(WaveletLowFrequency(content), ReferenceLow(content)), 1e-5);
    const at::Tensor expected = content.sub(ReferenceLow(content)).add(ReferenceLow(reference));
    EXPECT_LT(MaxAbsDifference(WaveletColorFix(content, reference), expected), 1e-5);
  }
}

TEST(ColorFixTest, WaveletKeepsTheReferenceAndRemovesABias) {
  const at::Tensor reference = at::rand({1, 3, 33, 20});
  EXPECT_TRUE(WaveletColorFix(reference, reference).equal(reference));
  // A constant per-channel bias is all low frequency: it is gone, the detail stays.
  const at::Tensor bias = at::tensor(std::vector<float>{0.02f, -0.01f, 0.005f}).view({1, 3, 1, 1});
  EXPECT_LT(MaxAbsDifference(WaveletColorFix(reference.add(bias), reference), reference), 1e-6);
  // Any content changes only by the difference of the two low bands.
  const at::Tensor content = at::rand({1, 3, 33, 20});
  const at::Tensor shift = WaveletColorFix(content, reference).sub(content);
  EXPECT_LT(MaxAbsDifference(shift, ReferenceLow(reference).sub(ReferenceLow(content))), 1e-5);
}

TEST(ColorFixTest, HalfPrecisionIsComputedInFloat) {
  const at::Tensor content = at::rand({1, 3, 24, 24});
  const at::Tensor reference = at::rand({1, 3, 24, 24});
  const at::Tensor half = WaveletColorFix(content.to(at::kHalf), reference.to(at::kHalf));
  EXPECT_EQ(half.scalar_type(), at::kHalf);
  EXPECT_LT(MaxAbsDifference(half, WaveletColorFix(content, reference)), 2e-3);
}

TEST(ColorFixTest, AdainTakesTheReferenceMeanAndStd) {
  const at::Tensor content = at::rand({2, 3, 16, 12}).mul_(0.5).add_(0.4);
  const at::Tensor reference = at::rand({2, 3, 8, 6}).mul_(0.2);  // another size: only statistics matter
  const at::Tensor fixed = AdainColorFix(content, reference);
  ASSERT_EQ(fixed.sizes(), content.sizes());
  const at::Tensor mean = fixed.flatten(2).mean({2});
  const at::Tensor std = fixed.flatten(2).std({2});
  EXPECT_LT(MaxAbsDifference(mean, reference.flatten(2).mean({2})), 1e-6);
  EXPECT_LT(MaxAbsDifference(std, reference.flatten(2).std({2})), 1e-4);  // the 1e-5 epsilon moves it a little
  // Flat content (std 0) becomes the reference mean rather than NaN (its float rounding, over the epsilon's
  // square root, is what is left of its own variation).
  const at::Tensor flat = AdainColorFix(at::full({2, 3, 4, 4}, 0.7f), reference);
  EXPECT_LT(MaxAbsDifference(flat.flatten(2).mean({2}), reference.flatten(2).mean({2})), 1e-5);
  EXPECT_FALSE(flat.isnan().any().item<bool>());
}

TEST(ColorFixTest, NoneReturnsTheContentAndBadShapesThrow) {
  const at::Tensor content = at::rand({1, 3, 8, 8});
  EXPECT_TRUE(ApplyColorFix(ColorFix::kNone, content, at::rand({1, 3, 8, 8})).is_same(content));
  EXPECT_THROW(WaveletColorFix(content, at::rand({1, 3, 8, 9})), c10::Error);
  EXPECT_THROW(WaveletColorFix(content.flatten(2), content.flatten(2)), c10::Error);
  EXPECT_THROW(AdainColorFix(content, at::rand({1, 1, 8, 8})), c10::Error);
  EXPECT_THROW(WaveletBlur(content, 0), c10::Error);
  EXPECT_THROW(WaveletBlur(content.to(at::kInt), 1), c10::Error);
}

}  // namespace
}  // namespace tsdsr::model

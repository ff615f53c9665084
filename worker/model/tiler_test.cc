#include "worker/model/tiler.h"

#include <string>
#include <utility>
#include <vector>

#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/replication_pad2d.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

// A fake network: nearest-neighbour ×s, optionally after a 3×3 box blur with replicated borders (so it has
// border effects one LR pixel deep, like a small CNN). Records the batch sizes it saw; can be told to fail.
class FakeModel : public TileModel {
 public:
  enum class Failure { kNone, kError, kOutOfMemory, kWrongShape };

  explicit FakeModel(bool blur = false, c10::ScalarType dtype = at::kFloat) : blur_(blur), dtype_(dtype) {}

  at::Tensor Forward(const at::Tensor& batch, int scale) override {
    EXPECT_EQ(batch.scalar_type(), dtype_);
    batch_sizes.push_back(static_cast<int>(batch.size(0)));
    shapes.push_back(batch.sizes().vec());
    TORCH_CHECK(failure != Failure::kError, "something broke inside the model");
    TORCH_CHECK_WITH(OutOfMemoryError, failure != Failure::kOutOfMemory, "CUDA out of memory. Tried to allocate");
    at::Tensor x = batch;
    if (blur_) x = at::avg_pool2d(at::replication_pad2d(x, {1, 1, 1, 1}), {3, 3}, {1, 1});
    x = x.repeat_interleave(scale, 2).repeat_interleave(scale, 3);
    if (failure == Failure::kWrongShape) x = x.narrow(3, 0, x.size(3) - 1);
    return x;
  }
  const std::vector<int>& scales() const override { return scales_; }
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return dtype_; }
  c10::Device device() const override { return c10::Device(c10::kCPU); }
  TileFootprint footprint(int /*scale*/) const override { return footprint_value; }

  std::vector<int> batch_sizes;
  std::vector<std::vector<int64_t>> shapes;  // of every batch
  TileFootprint footprint_value;  // none unless a test sets it
  Failure failure = Failure::kNone;

 private:
  bool blur_;
  c10::ScalarType dtype_;
  std::vector<int> scales_ = {2, 4};
  std::string name_ = "fake";
};

// An image of whole grey levels, as the upscaler makes from 8-bit pixels.
at::Tensor GreyImage(int width, int height) {
  return at::randint(0, 256, {1, 3, height, width}, at::kFloat).div_(255.0);
}

// Largest |a − b| in grey levels after each is rounded to 8 bits the way the upscaler does.
int MaxGreyLevelDifference(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor qa = a.mul(255.0).round().clamp(0, 255);
  const at::Tensor qb = b.mul(255.0).round().clamp(0, 255);
  return static_cast<int>(qa.sub(qb).abs().max().item<float>());
}

struct Size {
  int width;
  int height;
};

// At P = 64 and the default overlap of 8 a tile advances by at most 56: 120 and 288 = 8 + 56·k are the tight
// cases where neighbours overlap by exactly 8; the other sizes get overlaps larger than configured.
const Size kOddSizes[] = {{1, 1}, {1, 17}, {17, 1}, {1, 300}, {37, 23}, {63, 64}, {64, 64}, {65, 64},
                          {120, 288}, {130, 70}, {300, 200}, {201, 129}};

void ExpectTiledEqualsUntiled(bool blur) {
  c10::InferenceMode inference;
  for (int scale : {2, 4}) {
    for (const Size& size : kOddSizes) {
      SCOPED_TRACE("scale " + std::to_string(scale) + ", " + std::to_string(size.width) + "x" +
                   std::to_string(size.height));
      FakeModel model(blur);
      Tiler tiler(&model, TilerOptions{});
      const at::Tensor image = GreyImage(size.width, size.height);
      auto tiled = tiler.Run(image, TileJob{scale, 64, {}, {}});
      ASSERT_TRUE(tiled.ok()) << tiled.status().message();
      const at::Tensor whole = model.Forward(image, scale);
      ASSERT_EQ(tiled->sizes(), whole.sizes());
      EXPECT_LE(tiled->sub(whole).abs().max().item<float>(), 1e-6f);
      EXPECT_EQ(MaxGreyLevelDifference(*tiled, whole), 0);
    }
  }
}

TEST(TilerTest, PointwiseModelTiledEqualsUntiled) { ExpectTiledEqualsUntiled(/*blur=*/false); }

// The blur reaches one LR pixel past each tile edge; the guard band (≥ 2 LR pixels at the default overlap of 8)
// hides that, so tiling is still exact.
TEST(TilerTest, ModelWithBorderEffectsTiledEqualsUntiled) { ExpectTiledEqualsUntiled(/*blur=*/true); }

// A model with a footprint gets tiles as large as the budget allows, and is as exact as with squares.
TEST(TilerTest, AModelWithAFootprintGetsTheLargestTilesThatFit) {
  c10::InferenceMode inference;
  FakeModel model(/*blur=*/true);
  model.footprint_value = {2, 100};  // the blur reaches 1 LR pixel; 100 bytes per pixel
  const at::Tensor image = GreyImage(300, 200);
  const at::Tensor whole = model.Forward(image, 2);
  model.shapes.clear();
  Tiler roomy(&model, TilerOptions{4, 0, 100 * 300 * 200});
  auto one = roomy.Run(image, TileJob{2, 64, {}, {}});
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(model.shapes, (std::vector<std::vector<int64_t>>{{1, 3, 200, 300}})) << "the whole image in one call";
  EXPECT_LE(one->sub(whole).abs().max().item<float>(), 1e-6f);

  model.shapes.clear();
  Tiler tight(&model, TilerOptions{4, 0, 100 * 160 * 110});  // room for one tile of 160×110 per call
  auto grid = tight.GridFor(300, 200, TileJob{2, 64, {}, {}});
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->second, 1);
  EXPECT_EQ(grid->first.guard, 2);
  auto tiled = tight.Run(image, TileJob{2, 64, {}, {}});
  ASSERT_TRUE(tiled.ok()) << tiled.status().message();
  EXPECT_EQ(model.shapes.size(), 4u) << "2 × 2 tiles, not 24 squares of 64";
  EXPECT_LE(tiled->sub(whole).abs().max().item<float>(), 1e-6f);

  model.shapes.clear();
  Tiler squares(&model, TilerOptions{4, 0, 0});  // no budget: process_size squares
  ASSERT_TRUE(squares.Run(image, TileJob{2, 64, {}, {}}).ok());
  EXPECT_EQ(model.shapes.front(), (std::vector<int64_t>{4, 3, 64, 64}));
}

TEST(TilerTest, ConvertsToTheModelDtypeAndReturnsFloat) {
  FakeModel model(/*blur=*/false, at::kDouble);
  Tiler tiler(&model, TilerOptions{});
  auto out = tiler.Run(GreyImage(70, 90), TileJob{2, 64, {}, {}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->scalar_type(), at::kFloat);
  EXPECT_EQ(out->sizes(), (std::vector<int64_t>{1, 3, 180, 140}));
}

TEST(TilerTest, ReportsProgressAfterEachBatch) {
  FakeModel model;
  Tiler tiler(&model, TilerOptions{5, 0});
  std::vector<std::pair<int, int>> progress;
  TileJob job{2, 64, [&](int done, int total) { progress.emplace_back(done, total); }, {}};
  // 300×200 at P=64, overlap 8: 6 columns × 4 rows = 24 tiles, in batches of 5.
  auto out = tiler.Run(GreyImage(300, 200), job);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(model.batch_sizes, (std::vector<int>{5, 5, 5, 5, 4}));
  EXPECT_EQ(progress, (std::vector<std::pair<int, int>>{{5, 24}, {10, 24}, {15, 24}, {20, 24}, {24, 24}}));
}

TEST(TilerTest, StopsWhenCancelled) {
  FakeModel model;
  Tiler tiler(&model, TilerOptions{4, 0});
  int polls = 0;
  int progress_calls = 0;
  TileJob job{2, 64, [&](int, int) { ++progress_calls; }, [&] { return ++polls > 2; }};
  auto out = tiler.Run(GreyImage(300, 200), job);
  EXPECT_EQ(out.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(out.status().message(), "cancelled after 8 of 24 tiles");
  EXPECT_EQ(model.batch_sizes.size(), 2u);
  EXPECT_EQ(progress_calls, 2);
}

TEST(TilerTest, TurnsModelErrorsIntoStatus) {
  FakeModel model;
  Tiler tiler(&model, TilerOptions{});
  model.failure = FakeModel::Failure::kError;
  auto out = tiler.Run(GreyImage(10, 10), TileJob{2, 64, {}, {}});
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  EXPECT_NE(out.status().message().find("something broke inside the model"), std::string::npos);

  model.failure = FakeModel::Failure::kOutOfMemory;
  out = tiler.Run(GreyImage(10, 10), TileJob{2, 64, {}, {}});
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("out of memory"), std::string::npos);

  model.failure = FakeModel::Failure::kWrongShape;
  out = tiler.Run(GreyImage(10, 10), TileJob{2, 64, {}, {}});
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  EXPECT_NE(out.status().message().find("expected (1, 3, 20, 20)"), std::string::npos);
}

Status StatusOfThrown(const char* message) {
  try {
    TORCH_CHECK(false, message);
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "tiling");
  }
  return Status::Ok();
}

TEST(StatusFromTorchErrorTest, OutOfMemoryIsResourceExhausted) {
  const Status cpu = StatusOfThrown("DefaultCPUAllocator: not enough memory: you tried to allocate 9 GB");
  EXPECT_EQ(cpu.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(cpu.message(), "DefaultCPUAllocator: not enough memory: you tried to allocate 9 GB");
  EXPECT_EQ(StatusOfThrown("CUDA out of memory. Tried to allocate 2.00 GiB").code(), StatusCode::kResourceExhausted);
  const Status other = StatusOfThrown("shapes do not match");
  EXPECT_EQ(other.code(), StatusCode::kInternal);
  EXPECT_EQ(other.message(), "tiling: shapes do not match");
}

TEST(TilerTest, RejectsBadArguments) {
  FakeModel model;
  Tiler tiler(&model, TilerOptions{});
  EXPECT_EQ(tiler.Run(GreyImage(10, 10), TileJob{3, 64, {}, {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tiler.Run(GreyImage(10, 10), TileJob{2, 0, {}, {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tiler.Run(GreyImage(10, 10)[0], TileJob{2, 64, {}, {}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(tiler.Run(at::Tensor(), TileJob{2, 64, {}, {}}).status().code(), StatusCode::kInvalidArgument);
  Tiler no_batch(&model, TilerOptions{0, 0});
  EXPECT_EQ(no_batch.Run(GreyImage(10, 10), TileJob{2, 64, {}, {}}).status().code(),
            StatusCode::kInvalidArgument);
  Tiler huge_overlap(&model, TilerOptions{4, 64});
  EXPECT_EQ(huge_overlap.Run(GreyImage(10, 10), TileJob{2, 64, {}, {}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(model.batch_sizes.empty());
}

}  // namespace
}  // namespace tsdsr::model

#include "worker/model/tile_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

struct AxisCase {
  int size;
  int process_size;
  int overlap;
  int scale;
};

std::string Describe(const AxisCase& c) {
  return "size=" + std::to_string(c.size) + " P=" + std::to_string(c.process_size) +
         " O=" + std::to_string(c.overlap) + " s=" + std::to_string(c.scale);
}

std::vector<AxisCase> ManyCases() {
  std::vector<AxisCase> cases;
  const int sizes[] = {1, 2, 3, 7, 17, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257, 300, 1000, 4099};
  const int process_sizes[] = {2, 3, 8, 16, 64, 65, 100, 128, 256};
  const int scales[] = {1, 2, 3, 4};
  for (int size : sizes) {
    for (int p : process_sizes) {
      const int overlaps[] = {0, 1, DefaultOverlap(p), p / 2, p - 1};
      for (int o : overlaps) {
        for (int s : scales) cases.push_back({size, p, o, s});
      }
    }
  }
  cases.push_back({100000, 64, 8, 4});
  cases.push_back({7681, 256, 32, 2});
  return cases;
}

TEST(DefaultOverlapTest, IsAnEighthButAtLeastEight) {
  EXPECT_EQ(DefaultOverlap(64), 8);
  EXPECT_EQ(DefaultOverlap(100), 12);
  EXPECT_EQ(DefaultOverlap(128), 16);
  EXPECT_EQ(DefaultOverlap(256), 32);
  EXPECT_EQ(DefaultOverlap(16), 8);
  EXPECT_EQ(DefaultOverlap(6), 3);  // capped at P/2
}

TEST(PlanAxisTest, TilesHaveOneShapeCoverTheAxisAndOverlapEnough) {
  for (const AxisCase& c : ManyCases()) {
    SCOPED_TRACE(Describe(c));
    auto axis = PlanAxis(c.size, c.process_size, c.overlap, c.scale);
    ASSERT_TRUE(axis.ok()) << axis.status().message();
    EXPECT_EQ(axis->tile, std::min(c.size, c.process_size));
    const int step = c.process_size - c.overlap;
    const int expected_n = c.size <= c.process_size ? 1 : (c.size - c.overlap + step - 1) / step;
    ASSERT_EQ(axis->count(), expected_n);
    EXPECT_EQ(axis->starts.front(), 0);
    EXPECT_EQ(axis->starts.back(), c.size - axis->tile);
    for (int k = 1; k < axis->count(); ++k) {
      EXPECT_GT(axis->starts[k], axis->starts[k - 1]);
      EXPECT_GE(axis->Overlap(k), c.overlap);  // also means no gap: the tiles cover the axis
    }
    ASSERT_EQ(axis->weights.size(), static_cast<size_t>(axis->count()));
    for (const auto& w : axis->weights) ASSERT_EQ(w.size(), static_cast<size_t>(axis->tile * c.scale));
  }
}

TEST(PlanAxisTest, WeightsAreAPartitionOfUnity) {
  for (const AxisCase& c : ManyCases()) {
    SCOPED_TRACE(Describe(c));
    auto axis = PlanAxis(c.size, c.process_size, c.overlap, c.scale);
    ASSERT_TRUE(axis.ok()) << axis.status().message();
    std::vector<double> sum(static_cast<size_t>(c.size) * c.scale, 0.0);
    for (int k = 0; k < axis->count(); ++k) {
      for (int p = 0; p < axis->tile * c.scale; ++p) {
        const float w = axis->weights[k][p];
        ASSERT_GE(w, 0.0f);
        ASSERT_LE(w, 1.0f);
        sum[axis->starts[k] * c.scale + p] += w;
      }
    }
    for (size_t p = 0; p < sum.size(); ++p) ASSERT_NEAR(sum[p], 1.0, 1e-6) << "output pixel " << p;
    EXPECT_EQ(axis->weights.front().front(), 1.0f);  // image borders belong to one tile
    EXPECT_EQ(axis->weights.back().back(), 1.0f);
  }
}

TEST(PlanAxisTest, TilesAreSilentInTheirGuardBands) {
  for (const AxisCase& c : ManyCases()) {
    SCOPED_TRACE(Describe(c));
    auto axis = PlanAxis(c.size, c.process_size, c.overlap, c.scale);
    ASSERT_TRUE(axis.ok()) << axis.status().message();
    const int n = axis->count();
    const int out_tile = axis->tile * c.scale;
    const double guard = c.overlap * c.scale / 4.0;  // at least this many output pixels
    for (int k = 0; k < n; ++k) {
      for (int p = 0; p < out_tile; ++p) {
        const double centre = p + 0.5;
        const bool in_left_guard = k > 0 && centre <= guard;
        const bool in_right_guard = k + 1 < n && centre >= out_tile - guard;
        if (in_left_guard || in_right_guard) {
          ASSERT_EQ(axis->weights[k][p], 0.0f) << "tile " << k << " pixel " << p;
        }
      }
    }
  }
}

TEST(PlanAxisTest, GuardBandGrowsWithTheActualOverlap) {
  // 300 px in tiles of 128 with overlap 8: 3 tiles spread over 300, so each overlap is 42 LR pixels and the
  // guard is 42·4/4 = 42 output pixels at s=4, not just the configured 8.
  auto axis = PlanAxis(300, 128, 8, 4);
  ASSERT_TRUE(axis.ok());
  ASSERT_EQ(axis->count(), 3);
  EXPECT_EQ(axis->starts, (std::vector<int>{0, 86, 172}));
  EXPECT_EQ(axis->Overlap(1), 42);
  for (int p = 0; p < 42; ++p) EXPECT_EQ(axis->weights[1][p], 0.0f) << p;
  EXPECT_GT(axis->weights[1][42], 0.0f);
}

TEST(PlanAxisTest, AnExplicitGuardSilencesExactlyThatManyPixels) {
  for (int scale : {2, 4}) {
    auto axis = PlanAxis(700, 256, 36, scale, /*guard=*/14);
    ASSERT_TRUE(axis.ok()) << axis.status().message();
    std::vector<double> sum(700 * scale, 0.0);
    for (int k = 0; k < axis->count(); ++k) {
      const int out_tile = axis->tile * scale;
      for (int p = 0; p < out_tile; ++p) {
        sum[axis->starts[k] * scale + p] += axis->weights[k][p];
        const bool guarded = (k > 0 && p < 14 * scale) || (k + 1 < axis->count() && p >= out_tile - 14 * scale);
        if (guarded) {
          ASSERT_EQ(axis->weights[k][p], 0.0f) << "tile " << k << " pixel " << p;
        }
      }
      if (k > 0) {
        EXPECT_GT(axis->weights[k][14 * scale + scale], 0.0f) << "the fade starts right after the guard";
      }
    }
    for (double s : sum) ASSERT_NEAR(s, 1.0, 1e-6);
  }
  EXPECT_EQ(PlanAxis(700, 256, 36, 2, 19).status().code(), StatusCode::kInvalidArgument) << "guard > overlap/2";
}

// What psnr-small needs (context 14, about 8.8 KB per LR pixel with its margin) under the default 2 GiB.
constexpr int kContext = 14;
constexpr std::int64_t kMaxTilePixels = (std::int64_t{2} << 30) / (2 * 4 * 1100);

TEST(ChooseTilesTest, ASmallImageIsOneTile) {
  auto grid = ChooseTiles(480, 270, kContext, kMaxTilePixels);
  ASSERT_TRUE(grid.has_value());
  EXPECT_EQ(*grid, (TileGrid{480, 270, 0, 0}));
  EXPECT_EQ(TiledPixelRatio(480, 270, *grid), 1.0);
}

TEST(ChooseTilesTest, EverySizeCostsAtMost115PercentOfTheWholeImage) {
  for (int width = 32; width <= 3840; width += 97) {
    for (int height : {32, 270, 541, 720, 1080, 1440, 2160}) {
      SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
      auto grid = ChooseTiles(width, height, kContext, kMaxTilePixels);
      ASSERT_TRUE(grid.has_value());
      EXPECT_LE(std::int64_t{std::min(grid->tile_width, width)} * std::min(grid->tile_height, height),
                kMaxTilePixels);
      EXPECT_LE(TiledPixelRatio(width, height, *grid), 1.15);
      if (grid->overlap > 0) {
        EXPECT_EQ(grid->guard, kContext);
        EXPECT_EQ(grid->overlap, 2 * kContext + 2 * 3);
      }
      auto plan = TilePlan::Create(width, height, *grid, 2);
      ASSERT_TRUE(plan.ok()) << plan.status().message();
    }
  }
}

TEST(ChooseTilesTest, TooLittleMemoryForAnyTileIsNone) {
  EXPECT_FALSE(ChooseTiles(1920, 1080, kContext, 2000).has_value());
  EXPECT_TRUE(ChooseTiles(40, 40, kContext, 2000).has_value()) << "fits whole";
}

TEST(PlanAxisTest, SinglePixelAxis) {
  auto axis = PlanAxis(1, 64, 8, 4);
  ASSERT_TRUE(axis.ok());
  EXPECT_EQ(axis->count(), 1);
  EXPECT_EQ(axis->tile, 1);
  EXPECT_EQ(axis->weights[0], std::vector<float>(4, 1.0f));
}

TEST(PlanAxisTest, RejectsBadArguments) {
  EXPECT_EQ(PlanAxis(0, 64, 8, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanAxis(10, 0, 0, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanAxis(10, 64, 8, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanAxis(10, 64, -1, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanAxis(10, 64, 64, 2).status().code(), StatusCode::kInvalidArgument);
}

TEST(TilePlanTest, TilesAreRowMajorAndShareOneShape) {
  auto plan = TilePlan::Create(150, 40, 64, 8, 2);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->x().count(), 3);
  EXPECT_EQ(plan->y().count(), 1);
  ASSERT_EQ(plan->count(), 3);
  EXPECT_EQ(plan->tile_width(), 64);
  EXPECT_EQ(plan->tile_height(), 40);
  EXPECT_EQ(plan->scale(), 2);
  const TileRect last = plan->Tile(2);
  EXPECT_EQ(last.col, 2);
  EXPECT_EQ(last.row, 0);
  EXPECT_EQ(last.x, 150 - 64);
  EXPECT_EQ(last.y, 0);
  EXPECT_EQ(last.width, 64);
  EXPECT_EQ(last.height, 40);
}

TEST(TilePlanTest, TwoDimensionalWeightsSumToOne) {
  auto plan = TilePlan::Create(201, 133, 64, 8, 3);
  ASSERT_TRUE(plan.ok());
  const int s = plan->scale();
  std::vector<double> sum(201 * s * 133 * s, 0.0);
  for (int i = 0; i < plan->count(); ++i) {
    const TileRect t = plan->Tile(i);
    for (int v = 0; v < t.height * s; ++v) {
      for (int u = 0; u < t.width * s; ++u) {
        const double w = plan->y().weights[t.row][v] * plan->x().weights[t.col][u];
        sum[(t.y * s + v) * 201 * s + t.x * s + u] += w;
      }
    }
  }
  for (double value : sum) ASSERT_NEAR(value, 1.0, 1e-6);
}

TEST(TilePlanTest, NamesTheBadDimension) {
  auto plan = TilePlan::Create(10, 0, 64, 8, 2);
  ASSERT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("height"), std::string::npos);
}

}  // namespace
}  // namespace tsdsr::model

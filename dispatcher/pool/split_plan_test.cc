#include "dispatcher/pool/split_plan.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr::dispatcher {
namespace {

WorkerView Worker(const std::string& model, std::vector<int> margins, int in_flight = 0) {
  WorkerView w;
  w.description.model_name = model;
  w.description.scales = {2, 4};
  w.description.split_margins = std::move(margins);
  w.in_flight = in_flight;
  return w;
}

TEST(FindSplitTargetTest, TheLargestGroupOfIdleWorkersOnOneModel) {
  PoolSnapshot pool;
  pool.workers = {Worker("a", {32, 24}), Worker("a", {30, 20}), Worker("a", {32, 24}, /*in_flight=*/1),
                  Worker("b", {5, 5}), Worker("b", {5, 5}), Worker("b", {5, 5}), Worker("c", {})};
  auto b = FindSplitTarget(pool, 2);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->workers, 3);
  EXPECT_EQ(b->margin, 5);
  pool.workers[5].description.status = "error";
  auto a = FindSplitTarget(pool, 4);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->workers, 2) << "a tie: the first model; the busy one does not count";
  EXPECT_EQ(a->margin, 24);
  pool.workers = {Worker("a", {0, 0}), Worker("a", {0, 0}), Worker("c", {}), Worker("c", {})};
  EXPECT_FALSE(FindSplitTarget(pool, 2).has_value()) << "no margin: the model cannot be split";
}

TEST(PlanPiecesTest, AsManyPiecesAsWorkersAndTheSquarest) {
  auto four = PlanPieces(1920, 1080, 4, 16, 2);
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->x().count(), 2) << "2 × 2, not 4 strips";
  EXPECT_EQ(four->y().count(), 2);
  EXPECT_EQ(four->y().starts.back() + four->tile_height(), 1080);
  EXPECT_GE(four->y().Overlap(1), model::OverlapForContext(16));
  auto three = PlanPieces(1920, 1080, 3, 16, 2);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->x().count(), 3);
  EXPECT_EQ(three->y().count(), 1);
  auto tall = PlanPieces(300, 2000, 2, 16, 2);
  ASSERT_TRUE(tall.ok());
  EXPECT_EQ(tall->y().count(), 2);
  auto small = PlanPieces(130, 70, 8, 16, 2);  // overlap 40: pieces of at least 80 pixels a side
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->count(), 2) << "two columns of 85, no rows";
  auto tiny = PlanPieces(70, 70, 8, 16, 2);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->count(), 1);
}

// Pieces of an image, each "upscaled" by nearest neighbour and bicubic as a worker would, blend back into the
// upscale of the whole image.
TEST(BlendPiecesTest, PiecesBlendIntoTheWholeImage) {
  cv::Mat image(301, 217, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  for (int workers : {3, 4, 6}) {
    for (int interpolation : {cv::INTER_NEAREST, cv::INTER_CUBIC}) {
      SCOPED_TRACE(std::to_string(workers) + " workers, interpolation " + std::to_string(interpolation));
      auto plan = PlanPieces(image.cols, image.rows, workers, 4, 2);
      ASSERT_TRUE(plan.ok());
      ASSERT_GE(plan->count(), 3);
      std::vector<cv::Mat> outputs;
      for (int k = 0; k < plan->count(); ++k) {
        cv::Mat out;
        const cv::Mat piece = PieceOf(image, *plan, k);
        cv::resize(piece, out, cv::Size(piece.cols * 2, piece.rows * 2), 0, 0, interpolation);
        outputs.push_back(out);
      }
      auto blended = BlendPieces(*plan, outputs);
      ASSERT_TRUE(blended.ok()) << blended.status().message();
      cv::Mat whole;
      cv::resize(image, whole, cv::Size(image.cols * 2, image.rows * 2), 0, 0, interpolation);
      cv::Mat diff;
      cv::absdiff(*blended, whole, diff);
      double worst = 0;
      cv::minMaxLoc(diff.reshape(1), nullptr, &worst);
      EXPECT_LE(worst, interpolation == cv::INTER_NEAREST ? 0 : 1);
    }
  }
}

TEST(BlendPiecesTest, RefusesOutputsOfTheWrongShape) {
  auto plan = PlanPieces(300, 300, 2, 4, 2);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->count(), 2);
  const cv::Size size(plan->tile_width() * 2, plan->tile_height() * 2);
  std::vector<cv::Mat> outputs(2, cv::Mat(size, CV_8UC3, cv::Scalar::all(0)));
  EXPECT_TRUE(BlendPieces(*plan, outputs).ok());
  outputs[1] = cv::Mat(size.height - 1, size.width, CV_8UC3);
  EXPECT_EQ(BlendPieces(*plan, outputs).status().code(), StatusCode::kInvalidArgument);
  outputs.pop_back();
  EXPECT_EQ(BlendPieces(*plan, outputs).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tsdsr::dispatcher

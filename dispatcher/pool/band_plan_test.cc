#include "dispatcher/pool/band_plan.h"

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

TEST(PlanBandsTest, OneBandPerWorkerWhileTheyStayTallEnough) {
  auto four = PlanBands(1000, 4, 16, 2);
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->count(), 4);
  EXPECT_EQ(four->starts.front(), 0);
  EXPECT_EQ(four->starts.back() + four->tile, 1000);
  for (int k = 1; k < 4; ++k) EXPECT_GE(four->Overlap(k), model::OverlapForContext(16));
  auto short_image = PlanBands(100, 8, 16, 2);  // overlap 40: two bands would be 70 rows, under 80
  ASSERT_TRUE(short_image.ok());
  EXPECT_EQ(short_image->count(), 1);
}

// Bands of an image, each "upscaled" by nearest neighbour and bicubic as a worker would, blend back into the
// upscale of the whole image.
TEST(BlendBandsTest, BandsBlendIntoTheWholeImage) {
  cv::Mat image(301, 217, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  for (int interpolation : {cv::INTER_NEAREST, cv::INTER_CUBIC}) {
    auto bands = PlanBands(image.rows, 3, 4, 2);
    ASSERT_TRUE(bands.ok());
    ASSERT_EQ(bands->count(), 3);
    std::vector<cv::Mat> outputs;
    for (int k = 0; k < bands->count(); ++k) {
      cv::Mat out;
      const cv::Mat band = BandOf(image, *bands, k);
      cv::resize(band, out, cv::Size(band.cols * 2, band.rows * 2), 0, 0, interpolation);
      outputs.push_back(out);
    }
    auto blended = BlendBands(*bands, outputs);
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

TEST(BlendBandsTest, RefusesOutputsOfTheWrongShape) {
  auto bands = PlanBands(300, 2, 4, 2);
  ASSERT_TRUE(bands.ok());
  std::vector<cv::Mat> outputs(2, cv::Mat(bands->tile * 2, 50, CV_8UC3, cv::Scalar::all(0)));
  EXPECT_TRUE(BlendBands(*bands, outputs).ok());
  outputs[1] = cv::Mat(bands->tile * 2 - 1, 50, CV_8UC3);
  EXPECT_EQ(BlendBands(*bands, outputs).status().code(), StatusCode::kInvalidArgument);
  outputs.pop_back();
  EXPECT_EQ(BlendBands(*bands, outputs).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tsdsr::dispatcher

#include "tools/eval_images.h"

#include <gtest/gtest.h>

namespace tsdsr::tools {
namespace {

TEST(EvalImagesTest, DarkensToTheAskedMean) {
  cv::Mat ramp(32, 64, CV_8UC3);
  for (int x = 0; x < ramp.cols; ++x) ramp.col(x).setTo(cv::Scalar::all(4 * x));
  double gamma = 0;
  const cv::Mat dark = DarkenToMean(ramp, 20, &gamma);
  EXPECT_NEAR(cv::mean(dark)[0], 20, 1);
  EXPECT_GT(gamma, 1);                                      // darker: a power above 1
  EXPECT_EQ(dark.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));  // black stays black
  EXPECT_LT(dark.at<cv::Vec3b>(0, 40)[0], ramp.at<cv::Vec3b>(0, 40)[0]);
  EXPECT_NEAR(cv::mean(DarkenToMean(ramp, 200))[0], 200, 1);  // and brightens
}

TEST(EvalImagesTest, CropsToAMultipleOfTheScale) {
  const cv::Mat image(301, 451, CV_8UC3, cv::Scalar::all(7));
  EXPECT_EQ(CropToMultiple(image, 2).size(), cv::Size(450, 300));
  EXPECT_EQ(CropToMultiple(image, 8).size(), cv::Size(448, 296));
  EXPECT_EQ(CropToMultiple(image, 1).size(), image.size());
}

TEST(EvalImagesTest, MissingPhotographsSayHowToGetThem) {
  auto photos = LoadPhotos("/nonexistent", 0);
  ASSERT_EQ(photos.status().code(), StatusCode::kNotFound);
  EXPECT_NE(photos.status().message().find("scripts/fetch-photos"), std::string::npos);
  EXPECT_EQ(LoadChecks("/nonexistent", 0).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tsdsr::tools

#include "tools/quality_metrics.h"

#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace tsdsr::tools {
namespace {

cv::Mat Noise(int rows, int cols, int type, int seed) {
  cv::Mat image(rows, cols, type);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  return image;
}

TEST(QualityMetricsTest, LumaIsBt601StudioRange) {
  cv::Mat bgr(1, 3, CV_8UC3);
  bgr.at<cv::Vec3b>(0, 0) = {0, 0, 0};
  bgr.at<cv::Vec3b>(0, 1) = {255, 255, 255};
  bgr.at<cv::Vec3b>(0, 2) = {0, 0, 255};  // pure red
  const cv::Mat y = LumaBt601(bgr);
  ASSERT_EQ(y.type(), CV_64FC1);
  EXPECT_NEAR(y.at<double>(0, 0), 16, 1e-9);
  EXPECT_NEAR(y.at<double>(0, 1), 235, 1e-9);
  EXPECT_NEAR(y.at<double>(0, 2), 16 + 65.481, 1e-9);
}

TEST(QualityMetricsTest, PsnrOfAKnownError) {
  const cv::Mat a(20, 30, CV_64FC1, cv::Scalar(100));
  EXPECT_TRUE(std::isinf(Psnr(a, a)));
  const cv::Mat b = a + 1;  // MSE 1 → 20·log10(255) = 48.1308 dB
  EXPECT_NEAR(Psnr(a, b), 48.1308036, 1e-6);
  cv::Mat c = a.clone();
  c(cv::Rect(0, 0, 15, 20)) += 2;  // half the pixels off by 2: MSE 2
  EXPECT_NEAR(Psnr(a, c), 10 * std::log10(255.0 * 255.0 / 2), 1e-9);
}

TEST(QualityMetricsTest, SsimOfIdenticalAndOfFlatImages) {
  cv::Mat noise;
  Noise(40, 50, CV_8UC1, 1).convertTo(noise, CV_64F);
  EXPECT_NEAR(Ssim(noise, noise), 1, 1e-12);
  // Two flat images a and b: no variance, SSIM = (2ab + C1) / (a² + b² + C1).
  const cv::Mat a(16, 16, CV_64FC1, cv::Scalar(50));
  const cv::Mat b(16, 16, CV_64FC1, cv::Scalar(60));
  const double c1 = 6.5025;
  EXPECT_NEAR(Ssim(a, b), (2 * 50 * 60 + c1) / (50 * 50 + 60 * 60 + c1), 1e-9);
  // Noise against its negative: strongly anti-correlated, far below 0.
  EXPECT_LT(Ssim(noise, 255 - noise), -0.5);
  EXPECT_TRUE(std::isnan(Ssim(a(cv::Rect(0, 0, 10, 16)), b(cv::Rect(0, 0, 10, 16)))));
}

TEST(QualityMetricsTest, MeasuresOnTheCroppedLuma) {
  const cv::Mat truth = Noise(24, 24, CV_8UC3, 2);
  cv::Mat output = truth.clone();
  output.row(0).setTo(cv::Scalar(0, 0, 0));  // damage only inside the 2-pixel border
  const Quality same = MeasureQuality(output, truth, 2);
  EXPECT_TRUE(std::isinf(same.psnr));
  EXPECT_NEAR(same.ssim, 1, 1e-12);
  EXPECT_EQ(same.mean_difference, 0);
  cv::Mat brighter;
  cv::add(truth, cv::Scalar(3, 3, 3), brighter);  // may saturate a few pixels: the bias stays near +3·(219/255)
  EXPECT_NEAR(MeasureQuality(brighter, truth, 2).mean_difference, 3 * 219.0 / 255, 0.1);
}

TEST(QualityMetricsTest, DownscaleKeepsConstantsAndRamps) {
  const cv::Mat grey(24, 48, CV_8UC3, cv::Scalar(10, 128, 250));
  for (int factor : {1, 2, 3, 4, 8}) {
    const cv::Mat small = DownscaleBicubicAntialiased(grey, factor);
    ASSERT_EQ(small.size(), cv::Size(48 / factor, 24 / factor));
    EXPECT_EQ(cv::norm(small, cv::Mat(small.size(), CV_8UC3, cv::Scalar(10, 128, 250)), cv::NORM_INF), 0);
  }
  // A horizontal ramp 10·x: away from the edges the symmetric kernel returns the ramp at the sample centre,
  // output pixel i of a ×2 downscale sits at input x = 2i + 0.5 → 20i + 5.
  cv::Mat ramp(8, 24, CV_8UC1);
  for (int x = 0; x < ramp.cols; ++x) ramp.col(x).setTo(10 * x);
  const cv::Mat half = DownscaleBicubicAntialiased(ramp, 2);
  for (int i = 2; i < 10; ++i) EXPECT_EQ(half.at<uchar>(3, i), 20 * i + 5) << i;
}

TEST(QualityMetricsTest, DownscaleMatchesHandComputedWeightsAtTheEdge) {
  // ×2: output 0 sits at input −0.5 + 1 = 0.5; taps x = −3..4 at distances (0.5 − x)/2, mirrored −1 → 0,
  // −2 → 1, −3 → 2. Along a row of values v(x) = x² (columns constant down) the weights are Cubic(d/2)/2.
  cv::Mat image(4, 8, CV_8UC1);
  for (int x = 0; x < 8; ++x) image.col(x).setTo(x * x);
  auto cubic = [](double t) {
    t = std::abs(t);
    return t <= 1 ? (1.5 * t - 2.5) * t * t + 1 : t < 2 ? ((-0.5 * t + 2.5) * t - 4) * t + 2 : 0.0;
  };
  const int source[] = {2, 1, 0, 0, 1, 2, 3, 4};  // taps −3..4 mirrored
  double sum = 0;
  double weights = 0;
  for (int k = 0; k < 8; ++k) {
    const double w = cubic((0.5 - (k - 3)) / 2);
    sum += w * source[k] * source[k];
    weights += w;
  }
  EXPECT_EQ(DownscaleBicubicAntialiased(image, 2).at<uchar>(1, 0), cvRound(sum / weights));
}

}  // namespace
}  // namespace tsdsr::tools

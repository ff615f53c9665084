#include "tools/quality_metrics.h"

#include <cmath>
#include <limits>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace tsdsr::tools {
namespace {

// Keys' cubic convolution kernel with a = −0.5 (Matlab's imresize 'bicubic').
double Cubic(double x) {
  const double ax = std::abs(x);
  if (ax <= 1) return (1.5 * ax - 2.5) * ax * ax + 1;
  if (ax < 2) return ((-0.5 * ax + 2.5) * ax - 4) * ax + 2;
  return 0;
}

// Index j of an axis of `length` with 'symmetric' padding: −1 → 0, −2 → 1, length → length − 1.
int Mirror(int j, int length) {
  const int period = 2 * length;
  j %= period;
  if (j < 0) j += period;
  return j < length ? j : period - 1 - j;
}

struct Taps {
  std::vector<int> index;
  std::vector<double> weight;  // sums to 1
};

// The input samples and weights of each output sample when an axis of `length` shrinks by `factor`.
std::vector<Taps> Contributions(int length, int factor) {
  std::vector<Taps> all(length / factor);
  for (int i = 0; i < static_cast<int>(all.size()); ++i) {
    const double centre = (i + 0.5) * factor - 0.5;  // in input pixel coordinates
    double sum = 0;
    for (int j = static_cast<int>(std::floor(centre - 2.0 * factor)); j <= std::ceil(centre + 2.0 * factor); ++j) {
      const double w = Cubic((centre - j) / factor) / factor;
      if (w == 0) continue;
      all[i].index.push_back(Mirror(j, length));
      all[i].weight.push_back(w);
      sum += w;
    }
    for (double& w : all[i].weight) w /= sum;
  }
  return all;
}

// Shrinks the rows of a double image by `factor`.
cv::Mat ShrinkRows(const cv::Mat& image, int factor) {
  const std::vector<Taps> taps = Contributions(image.rows, factor);
  cv::Mat out(static_cast<int>(taps.size()), image.cols, image.type(), cv::Scalar::all(0));
  for (int i = 0; i < out.rows; ++i) {
    cv::Mat row = out.row(i);
    for (size_t k = 0; k < taps[i].index.size(); ++k)
      cv::scaleAdd(image.row(taps[i].index[k]), taps[i].weight[k], row, row);
  }
  return out;
}

}  // namespace

cv::Mat LumaBt601(const cv::Mat& bgr) {
  CV_Assert(bgr.type() == CV_8UC3);
  cv::Mat luma;
  const cv::Matx13d weights(24.966 / 255, 128.553 / 255, 65.481 / 255);  // B, G, R
  cv::Mat bgr64;
  bgr.convertTo(bgr64, CV_64FC3);
  cv::transform(bgr64, luma, weights);
  luma += 16.0;
  return luma;
}

cv::Mat CropBorder(const cv::Mat& image, int border) {
  if (image.rows <= 2 * border || image.cols <= 2 * border) return cv::Mat();
  return image(cv::Rect(border, border, image.cols - 2 * border, image.rows - 2 * border));
}

double Psnr(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.type() == CV_64FC1 && b.type() == CV_64FC1 && a.size() == b.size() && !a.empty());
  const double squared = cv::norm(a, b, cv::NORM_L2SQR);
  if (squared == 0) return std::numeric_limits<double>::infinity();
  const double mse = squared / static_cast<double>(a.total());
  return 10 * std::log10(255.0 * 255.0 / mse);
}

double Ssim(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.type() == CV_64FC1 && b.type() == CV_64FC1 && a.size() == b.size());
  constexpr int kWindow = 11;
  constexpr int kHalf = kWindow / 2;
  if (a.rows < kWindow || a.cols < kWindow) return std::numeric_limits<double>::quiet_NaN();
  const double c1 = std::pow(0.01 * 255, 2);
  const double c2 = std::pow(0.03 * 255, 2);
  const cv::Mat gauss = cv::getGaussianKernel(kWindow, 1.5, CV_64F);
  // Local means of x, y, x², y², xy; only the positions where the whole window fits are kept.
  auto local_mean = [&](const cv::Mat& x) {
    cv::Mat filtered;
    cv::sepFilter2D(x, filtered, CV_64F, gauss, gauss, cv::Point(-1, -1), 0, cv::BORDER_REFLECT);
    return CropBorder(filtered, kHalf).clone();
  };
  const cv::Mat mu_a = local_mean(a);
  const cv::Mat mu_b = local_mean(b);
  const cv::Mat mu_aa = mu_a.mul(mu_a);
  const cv::Mat mu_bb = mu_b.mul(mu_b);
  const cv::Mat mu_ab = mu_a.mul(mu_b);
  const cv::Mat var_a = local_mean(a.mul(a)) - mu_aa;
  const cv::Mat var_b = local_mean(b.mul(b)) - mu_bb;
  const cv::Mat cov = local_mean(a.mul(b)) - mu_ab;
  cv::Mat numerator = (2 * mu_ab + c1).mul(2 * cov + c2);
  cv::Mat denominator = (mu_aa + mu_bb + c1).mul(var_a + var_b + c2);
  cv::Mat map;
  cv::divide(numerator, denominator, map);
  return cv::mean(map)[0];
}

Quality MeasureQuality(const cv::Mat& output, const cv::Mat& truth, int border) {
  CV_Assert(output.size() == truth.size());
  const cv::Mat y_out = CropBorder(LumaBt601(output), border);
  const cv::Mat y_truth = CropBorder(LumaBt601(truth), border);
  Quality quality;
  quality.psnr = Psnr(y_out, y_truth);
  quality.ssim = Ssim(y_out, y_truth);
  quality.mean_difference = cv::mean(y_out)[0] - cv::mean(y_truth)[0];
  return quality;
}

cv::Mat DownscaleBicubicAntialiased(const cv::Mat& image, int factor) {
  CV_Assert(image.depth() == CV_8U && factor >= 1 && image.rows % factor == 0 && image.cols % factor == 0);
  cv::Mat wide;
  image.convertTo(wide, CV_64F);
  const cv::Mat rows = ShrinkRows(wide, factor);          // Matlab resizes dimension 1 first
  const cv::Mat both = ShrinkRows(rows.t(), factor).t();  // then dimension 2, as rows of the transpose
  cv::Mat out;
  both.convertTo(out, image.type());  // rounds and saturates
  return out;
}

}  // namespace tsdsr::tools

// What the tiny "nearest-conv-xS" TorchScript test model (worker/model/torchscript_model_fixtures.h) computes,
// redone with OpenCV on 8-bit BGR images, for the tests that serve that model through the worker
// (torchscript_upscaler_test.cc) and through a dispatcher (tests/torchscript_e2e_test.cc). Header-only, OpenCV only.
#pragma once

#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr::worker {

// Nearest ×scale, then per channel the 3×3 kernel [[0, 1, 0], [1, 4, 1], [0, 1, 0]] / 8 times the channel's gain
// (R 1, G 0.5, B 0.25) with zero borders, plus its bias (R 30.3, G 20.3, B 10.3 grey levels); rounded to 8 bits.
// The biases keep every pixel away from a rounding tie, so the model's output must equal this exactly.
inline cv::Mat NearestConvOpenCv(const cv::Mat& bgr, int scale) {
  cv::Mat image;
  bgr.convertTo(image, CV_32FC3, 1.0 / 255);
  cv::resize(image, image, cv::Size(bgr.cols * scale, bgr.rows * scale), 0, 0, cv::INTER_NEAREST);
  std::vector<cv::Mat> channels;
  cv::split(image, channels);
  const cv::Mat kernel = (cv::Mat_<float>(3, 3) << 0, 1, 0, 1, 4, 1, 0, 1, 0) / 8;
  const double gain[3] = {0.25, 0.5, 1.0};
  const double bias[3] = {10.3 / 255, 20.3 / 255, 30.3 / 255};
  for (int c = 0; c < 3; ++c) {
    cv::filter2D(channels[c], channels[c], -1, cv::Mat(kernel * gain[c]), cv::Point(-1, -1), bias[c],
                 cv::BORDER_CONSTANT);
  }
  cv::merge(channels, image);
  cv::Mat out;
  image.convertTo(out, CV_8UC3, 255.0);
  return out;
}

}  // namespace tsdsr::worker

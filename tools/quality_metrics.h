// The image-quality measures of the super-resolution literature, for tools/eval-quality: PSNR and SSIM on the
// Y channel of BT.601 YCbCr with the border cropped (as BasicSR's calculate_psnr/calculate_ssim with
// test_y_channel), and Matlab's antialiased bicubic imresize to make the low-resolution inputs. OpenCV only.
#pragma once

#include <opencv2/core.hpp>

namespace tsdsr::tools {

// Y of BT.601 YCbCr, 16 + (65.481·R + 128.553·G + 24.966·B) / 255 for 8-bit R, G, B: a CV_64FC1 image in
// [16, 235], not rounded. `bgr` is 8-bit BGR (CV_8UC3).
cv::Mat LumaBt601(const cv::Mat& bgr);

// A view of `image` without `border` pixels on each side; empty when nothing is left.
cv::Mat CropBorder(const cv::Mat& image, int border);

// PSNR in dB of two same-size CV_64FC1 images with peak value 255: 10·log10(255² / mean squared error);
// +infinity when they are equal.
double Psnr(const cv::Mat& a, const cv::Mat& b);

// Mean SSIM (Wang et al. 2004) of two same-size CV_64FC1 images on [0, 255]: 11×11 Gaussian window, σ = 1.5,
// C1 = (0.01·255)², C2 = (0.03·255)², averaged over the window positions that lie wholly inside the image (the
// reference ssim_index.m 'valid' filtering). NaN for images smaller than the window.
double Ssim(const cv::Mat& a, const cv::Mat& b);

struct Quality {
  double psnr = 0;             // dB, on Y
  double ssim = 0;             // on Y
  double mean_difference = 0;  // mean of Y(output) − Y(truth), in 8-bit grey levels: a brightness bias
};

// Quality of `output` against `truth`, two same-size 8-bit BGR images, on Y with `border` pixels cropped on
// each side (the SR convention crops the scale factor).
Quality MeasureQuality(const cv::Mat& output, const cv::Mat& truth, int border);

// Matlab's imresize(image, 1/factor) with its default 'bicubic' method and antialiasing, for 8-bit images of
// any channel count: the cubic kernel with a = −0.5 stretched by `factor`, taps past an edge mirrored with the
// edge pixel repeated ('symmetric'), weights normalised to sum 1; rows are resized first, in double precision,
// and the result is rounded and clamped to 8 bits (as BasicSR's matlab_functions.imresize). The width and
// height must be multiples of `factor` ≥ 1; the result is width/factor × height/factor.
cv::Mat DownscaleBicubicAntialiased(const cv::Mat& image, int factor);

}  // namespace tsdsr::tools

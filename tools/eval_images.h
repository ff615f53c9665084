// The test images of tools/eval-quality: photographs from Debian's python3-skimage package (skimage/data,
// copied into data/photos/ by scripts/fetch-photos) and the flat and dark checks derived from them.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "common/status.h"

namespace tsdsr::tools {

struct TestImage {
  std::string name;  // e.g. "astronaut", "flat-dark"
  cv::Mat image;     // 8-bit BGR: the ground truth, before it is cut to a multiple of the scale
};

// The photographs, in table order: astronaut 512×512, chelsea 451×300, coffee 600×400, camera 512×512 (grey).
const std::vector<std::string>& PhotoNames();

// DIR/NAME.png for every PhotoNames() entry as 8-bit BGR (camera, greyscale, as three equal channels), cut to
// its central `crop`×`crop` window (clamped to the image; 0 keeps it whole). NotFound naming the file and
// scripts/fetch-photos when one is missing or unreadable.
Result<std::vector<TestImage>> LoadPhotos(const std::string& dir, int crop);

// The checks on smooth and dark content, from the same folder:
// - "flat-dark": coffee's top-left 64×64, an out-of-focus dark background (mean RGB about 31, 20, 12, standard
//   deviation 2–4 grey levels): nearly flat, where a network's bias shows most;
// - "dark-frame": chelsea darkened like an underexposed video frame, out = 255·(in/255)^γ with γ set so that the
//   mean is 20 (DarkenToMean), cut to its central `crop` window as the photographs.
// Errors as LoadPhotos.
Result<std::vector<TestImage>> LoadChecks(const std::string& dir, int crop);

// `image` darkened (or brightened) by the power law out = 255·(in/255)^γ, rounded to 8 bits, with γ found by
// bisection in [0.05, 20] so that the mean over all pixels and channels is `mean` as closely as it can be.
// Stores γ in *gamma when `gamma` is not null.
cv::Mat DarkenToMean(const cv::Mat& image, double mean, double* gamma = nullptr);

// The top-left part of `image` whose width and height are the largest multiples of `scale` (a view).
cv::Mat CropToMultiple(const cv::Mat& image, int scale);

}  // namespace tsdsr::tools

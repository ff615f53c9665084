#include "tools/eval_images.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr::tools {
namespace {

Result<cv::Mat> ReadPhoto(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name + ".png";
  // Checked first, as OpenCV would also print a warning of its own. Grey files come back as 3 equal channels.
  std::error_code error;
  const cv::Mat image = std::filesystem::is_regular_file(path, error) ? cv::imread(path, cv::IMREAD_COLOR) : cv::Mat();
  if (image.empty()) {
    return Status::NotFound("cannot read " + path +
                            ": run scripts/fetch-photos (it copies the photographs of "
                            "Debian's python3-skimage there) or pass --photos DIR");
  }
  return image;
}

cv::Mat CentralCrop(const cv::Mat& image, int crop) {
  if (crop <= 0) return image;
  const int w = std::min(crop, image.cols);
  const int h = std::min(crop, image.rows);
  return image(cv::Rect((image.cols - w) / 2, (image.rows - h) / 2, w, h)).clone();
}

cv::Mat PowerLaw(const cv::Mat& image, double gamma) {
  cv::Mat table(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) table.at<uchar>(v) = cv::saturate_cast<uchar>(255 * std::pow(v / 255.0, gamma));
  cv::Mat out;
  cv::LUT(image, table, out);
  return out;
}

double MeanOfAll(const cv::Mat& image) {
  const cv::Scalar mean = cv::mean(image);
  double sum = 0;
  for (int c = 0; c < image.channels(); ++c) sum += mean[c];
  return sum / image.channels();
}

}  // namespace

const std::vector<std::string>& PhotoNames() {
  static const std::vector<std::string> names = {"astronaut", "chelsea", "coffee", "camera"};
  return names;
}

Result<std::vector<TestImage>> LoadPhotos(const std::string& dir, int crop) {
  std::vector<TestImage> photos;
  for (const std::string& name : PhotoNames()) {
    TSDSR_ASSIGN_OR_RETURN(cv::Mat image, ReadPhoto(dir, name));
    photos.push_back({name, CentralCrop(image, crop)});
  }
  return photos;
}

Result<std::vector<TestImage>> LoadChecks(const std::string& dir, int crop) {
  TSDSR_ASSIGN_OR_RETURN(cv::Mat coffee, ReadPhoto(dir, "coffee"));
  TSDSR_ASSIGN_OR_RETURN(cv::Mat chelsea, ReadPhoto(dir, "chelsea"));
  std::vector<TestImage> checks;
  checks.push_back({"flat-dark", coffee(cv::Rect(0, 0, 64, 64)).clone()});
  checks.push_back({"dark-frame", DarkenToMean(CentralCrop(chelsea, crop), 20)});
  return checks;
}

cv::Mat DarkenToMean(const cv::Mat& image, double mean, double* gamma) {
  // The mean falls as γ grows: bisect on log γ.
  double low = std::log(0.05);
  double high = std::log(20.0);
  for (int i = 0; i < 40; ++i) {
    const double mid = (low + high) / 2;
    (MeanOfAll(PowerLaw(image, std::exp(mid))) > mean ? low : high) = mid;
  }
  const cv::Mat a = PowerLaw(image, std::exp(low));
  const cv::Mat b = PowerLaw(image, std::exp(high));
  const bool take_low = std::abs(MeanOfAll(a) - mean) <= std::abs(MeanOfAll(b) - mean);
  if (gamma != nullptr) *gamma = std::exp(take_low ? low : high);
  return take_low ? a : b;
}

cv::Mat CropToMultiple(const cv::Mat& image, int scale) {
  return image(cv::Rect(0, 0, image.cols / scale * scale, image.rows / scale * scale));
}

}  // namespace tsdsr::tools

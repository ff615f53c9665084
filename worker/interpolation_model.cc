#include "worker/interpolation_model.h"

#include <algorithm>
#include <cstdint>

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr::worker {

InterpolationModel::InterpolationModel(Interpolation kind, c10::Device device)
    : cv_interpolation_(kind == Interpolation::kBicubic ? cv::INTER_CUBIC : cv::INTER_LANCZOS4),
      name_(kind == Interpolation::kBicubic ? "bicubic" : "lanczos"),
      device_(device) {}

at::Tensor InterpolationModel::Forward(const at::Tensor& batch, int scale) {
  TORCH_CHECK(std::find(scales_.begin(), scales_.end(), scale) != scales_.end(), name_,
              " upscales by 2 or 4, not ", scale);
  TORCH_CHECK(batch.dim() == 4, name_, " takes a batch shaped (N, C, h, w), got ", batch.sizes());
  // Each channel plane of a contiguous NCHW tensor is a dense h×w float matrix: OpenCV reads the input and
  // writes the output in place through CV_32FC1 headers, with no HWC shuffling or intermediate copies.
  const at::Tensor input = batch.to(c10::kCPU, c10::ScalarType::Float).contiguous();
  const int64_t planes = input.size(0) * input.size(1);
  const int h = static_cast<int>(input.size(2));
  const int w = static_cast<int>(input.size(3));
  at::Tensor output = at::empty({input.size(0), input.size(1), int64_t{h} * scale, int64_t{w} * scale},
                                at::TensorOptions().dtype(c10::ScalarType::Float));
  float* in = input.data_ptr<float>();
  float* out = output.data_ptr<float>();
  const int64_t in_plane = int64_t{h} * w;
  const int64_t out_plane = in_plane * scale * scale;
  try {
    for (int64_t p = 0; p < planes; ++p) {
      const cv::Mat src(h, w, CV_32FC1, in + p * in_plane);
      cv::Mat dst(h * scale, w * scale, CV_32FC1, out + p * out_plane);
      cv::resize(src, dst, dst.size(), 0, 0, cv_interpolation_);
      TORCH_CHECK(dst.data == reinterpret_cast<uchar*>(out + p * out_plane), "cv::resize reallocated its output");
    }
  } catch (const cv::Exception& e) {
    TORCH_CHECK(false, name_, " resize failed: ", e.what());
  }
  return output.to(device_);
}

}  // namespace tsdsr::worker

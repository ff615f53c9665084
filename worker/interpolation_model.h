// OpenCV interpolation (bicubic, Lanczos) as a TileModel: the baseline the networks are measured against
// and a fast, deterministic test double for everything around the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/model/tile_model.h"

namespace tsdsr::worker {

enum class Interpolation { kBicubic, kLanczos };

class InterpolationModel : public model::TileModel {
 public:
  // Tiles arrive on `device`; resizing runs on the CPU (GPU tiles are copied there and back).
  InterpolationModel(Interpolation kind, c10::Device device);

  // cv::resize (INTER_CUBIC or INTER_LANCZOS4) of each channel plane, float32. Throws c10::Error for a
  // scale other than 2 or 4, a batch not shaped (N, C, h, w), or an OpenCV failure (with its message).
  at::Tensor Forward(const at::Tensor& batch, int scale) override;

  const std::vector<int>& scales() const override { return scales_; }
  // "bicubic" or "lanczos".
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return c10::ScalarType::Float; }
  c10::Device device() const override { return device_; }
  // The kernel's reach (bicubic 2, Lanczos-4 4 LR pixels): tiled equals whole exactly beyond it. Memory: the
  // float input and output planes, doubled for the conversions around them.
  model::TileFootprint footprint(int scale) const override {
    return {name_ == "bicubic" ? 2 : 4, 2 * 4 * 3 * (1 + std::int64_t{scale} * scale)};
  }

 private:
  int cv_interpolation_;
  std::string name_;
  c10::Device device_;
  std::vector<int> scales_ = {2, 4};
};

}  // namespace tsdsr::worker

// TorchUpscaler: the Upscaler of every LibTorch model. Converts 8-bit BGR images to RGB float tensors on the
// model's device, runs the shared Tiler, optionally anchors the result's colours to the bicubic upscale of the
// whole input (model::ColorFix, --color-fix), and converts back. Includes LibTorch's Tensor header: only the
// model factory and tests include this file; the rest of the worker sees upscaler.h / model_factory.h.
#pragma once

#include <memory>

#include <c10/core/Device.h>

#include "common/status.h"
#include "worker/model/color_fix.h"
#include "worker/model/tile_model.h"
#include "worker/model/tiler.h"
#include "worker/upscaler.h"

namespace tsdsr::worker {

// The process_size range UpscaleRequest accepts.
inline constexpr int kMinProcessSize = 64;
inline constexpr int kMaxProcessSize = 256;

// InvalidArgument unless tile_batch ≥ 1 and 0 ≤ overlap ≤ kMinProcessSize / 2 (0 meaning the default).
Status ValidateTilerOptions(const model::TilerOptions& options);

class TorchUpscaler : public Upscaler {
 public:
  // Takes ownership of `model`. InvalidArgument as ValidateTilerOptions, or for a null model. With a colour fix
  // other than kNone, every output is fixed against at::upsample_bicubic2d (align_corners false, as TSD-SR's
  // reference) of the whole input, after tiling and before rounding to 8 bits.
  static Result<std::unique_ptr<TorchUpscaler>> Create(std::unique_ptr<model::TileModel> model,
                                                       model::TilerOptions options,
                                                       model::ColorFix color_fix = model::ColorFix::kNone);

  // See Upscaler. InvalidArgument also for an empty or non-CV_8UC3 image and a process_size outside
  // [kMinProcessSize, kMaxProcessSize]. Runs under InferenceMode; releases cached device memory afterwards.
  // Out of device memory, it frees the cache and retries once with half-size tiles one at a time before
  // returning ResourceExhausted.
  Result<cv::Mat> Upscale(const cv::Mat& bgr, const UpscaleRequest& request) override;

  const ModelDescription& description() const override { return description_; }

  // Device memory now (model::DeviceMemory). Thread-safe: reads the driver, the allocator or /proc only.
  proto::MemoryStats Memory() const override;
  model::GpuReadings Gpu() const override;

  // Runs one small image at each scale through the whole path so that the first job does not pay for lazy
  // initialisation (kernel selection, allocator pools). Returns the first error. Not thread-safe, like Upscale.
  Status Warmup();

 private:
  TorchUpscaler(std::unique_ptr<model::TileModel> model, model::TilerOptions options, model::ColorFix color_fix);
  // One tiled run with every library exception turned into a Status.
  Result<cv::Mat> RunGuarded(const model::Tiler& tiler, const cv::Mat& bgr, const UpscaleRequest& request) const;
  // ModelDescription::split_margins at `scale`: the model's context widened by the colour fix's reach.
  int SplitMargin(int scale) const;

  std::unique_ptr<model::TileModel> model_;
  c10::Device device_;
  model::Tiler tiler_;
  model::ColorFix color_fix_;
  ModelDescription description_;
};

}  // namespace tsdsr::worker

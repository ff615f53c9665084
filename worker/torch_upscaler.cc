#include "worker/torch_upscaler.h"

#include <algorithm>
#include <new>
#include <string>
#include <utility>

#include <ATen/ops/from_blob.h>
#include <ATen/ops/upsample_bicubic2d.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <opencv2/core.hpp>

#include "common/text.h"
#include "worker/model/device.h"

namespace tsdsr::worker {
namespace {

Status ValidateRequest(const cv::Mat& bgr, const UpscaleRequest& request, const std::vector<int>& scales) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return Status::InvalidArgument("the model takes a non-empty 8-bit, 3-channel image");
  }
  if (std::find(scales.begin(), scales.end(), request.scale) == scales.end()) {
    return Status::InvalidArgument("upscale must be one of " + JoinNumbers(scales) + ", got " +
                                   std::to_string(request.scale));
  }
  if (request.process_size < kMinProcessSize || request.process_size > kMaxProcessSize) {
    return Status::InvalidArgument("process_size must be in " + std::to_string(kMinProcessSize) + ".." +
                                   std::to_string(kMaxProcessSize) + ", got " +
                                   std::to_string(request.process_size));
  }
  return Status::Ok();
}

// 8-bit BGR (h, w) → RGB float (1, 3, h, w) in [0, 1] on `device`. The bytes travel to the device as uint8
// (a quarter of the float size) and are converted there.
at::Tensor BgrToTensor(const cv::Mat& bgr, c10::Device device) {
  const cv::Mat dense = bgr.isContinuous() ? bgr : bgr.clone();
  const at::Tensor hwc = at::from_blob(dense.data, {dense.rows, dense.cols, 3}, c10::ScalarType::Byte);
  return hwc.to(device).permute({2, 0, 1}).flip({0}).to(c10::ScalarType::Float).div_(255.0).unsqueeze(0);
}

// RGB float (1, 3, H, W) → 8-bit BGR, rounded half to even and clamped, copied straight into the Mat.
cv::Mat TensorToBgr(const at::Tensor& rgb) {
  const at::Tensor hwc = rgb[0]
                             .flip({0})
                             .mul(255.0)
                             .round_()
                             .clamp_(0.0, 255.0)
                             .to(c10::ScalarType::Byte)
                             .permute({1, 2, 0});
  cv::Mat bgr(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3);
  at::from_blob(bgr.data, {bgr.rows, bgr.cols, 3}, c10::ScalarType::Byte).copy_(hwc);
  return bgr;
}

// Upscale's body once the request is valid; lets c10::Error and cv::Exception through.
Result<cv::Mat> RunTiled(const model::Tiler& tiler, model::ColorFix color_fix, c10::Device device,
                         const cv::Mat& bgr, const UpscaleRequest& request) {
  const model::TileJob job{request.scale, request.process_size, request.on_progress, request.cancelled};
  const at::Tensor input = BgrToTensor(bgr, device);
  TSDSR_ASSIGN_OR_RETURN(at::Tensor rgb, tiler.Run(input, job));
  if (color_fix != model::ColorFix::kNone) {
    // The reference is the bicubic upscale of the whole image, not of tiles: its low band has no seams.
    const at::Tensor bicubic = at::upsample_bicubic2d(input, {rgb.size(2), rgb.size(3)}, /*align_corners=*/false);
    rgb = model::ApplyColorFix(color_fix, rgb, bicubic);
  }
  return TensorToBgr(rgb);
}

}  // namespace

Status ValidateTilerOptions(const model::TilerOptions& options) {
  if (options.tile_batch < 1) {
    return Status::InvalidArgument("tile_batch must be at least 1, got " + std::to_string(options.tile_batch));
  }
  if (options.overlap < 0 || options.overlap > kMinProcessSize / 2) {
    return Status::InvalidArgument("tile_overlap must be in 0.." + std::to_string(kMinProcessSize / 2) +
                                   " (0 = process_size/8, at least 8), got " + std::to_string(options.overlap));
  }
  return Status::Ok();
}

Result<std::unique_ptr<TorchUpscaler>> TorchUpscaler::Create(std::unique_ptr<model::TileModel> model,
                                                             model::TilerOptions options, model::ColorFix color_fix) {
  if (!model) return Status::InvalidArgument("no model");
  TSDSR_RETURN_IF_ERROR(ValidateTilerOptions(options));
  return std::unique_ptr<TorchUpscaler>(new TorchUpscaler(std::move(model), options, color_fix));
}

TorchUpscaler::TorchUpscaler(std::unique_ptr<model::TileModel> model, model::TilerOptions options,
                             model::ColorFix color_fix)
    : model_(std::move(model)), device_(model_->device()), tiler_(model_.get(), options), color_fix_(color_fix) {
  description_.name = model_->name();
  description_.scales = model_->scales();
  for (int scale : description_.scales) description_.split_margins.push_back(SplitMargin(scale));
  description_.dtype = model::DtypeName(model_->dtype());
  description_.device = model::DeviceString(device_);
  description_.device_name = model::DeviceName(device_);
}

int TorchUpscaler::SplitMargin(int scale) const {
  const int context = model_->footprint(scale).context;
  switch (color_fix_) {
    case model::ColorFix::kNone:
      return context;
    case model::ColorFix::kWavelet:
      // The low band reaches 1 + 2 + … + 2^(levels−1) output pixels, and the bicubic reference 2 LR pixels.
      return context == 0 ? 0 : context + ((1 << model::kWaveletLevels) - 1 + scale - 1) / scale + 2;
    case model::ColorFix::kAdain:
      return 0;  // statistics of the whole image: a band's differ
  }
  return 0;
}

Result<cv::Mat> TorchUpscaler::RunGuarded(const model::Tiler& tiler, const cv::Mat& bgr,
                                          const UpscaleRequest& request) const {
  try {
    c10::InferenceMode inference;
    return RunTiled(tiler, color_fix_, device_, bgr, request);
  } catch (const c10::Error& e) {
    return model::StatusFromTorchError(e, "upscale failed");
  } catch (const cv::Exception& e) {
    return Status::Internal(std::string("upscale failed: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of host memory converting the image");
  }
}

Result<cv::Mat> TorchUpscaler::Upscale(const cv::Mat& bgr, const UpscaleRequest& request) {
  TSDSR_RETURN_IF_ERROR(ValidateRequest(bgr, request, description_.scales));
  Result<cv::Mat> result = RunGuarded(tiler_, bgr, request);
  if (result.status().code() == StatusCode::kResourceExhausted) {
    // Out of memory: free the cache and try once more with the smallest footprint, half-size process_size
    // tiles one at a time. Either way the worker lives on.
    model::ReleaseCachedMemory(device_);
    UpscaleRequest smaller = request;
    smaller.process_size = std::max(kMinProcessSize, request.process_size / 2);
    model::TilerOptions careful = tiler_.options();
    careful.tile_batch = 1;
    careful.memory_budget = 0;  // process_size tiles
    result = RunGuarded(model::Tiler(model_.get(), careful), bgr, smaller);
    if (result.status().code() == StatusCode::kResourceExhausted) {
      result = Status::ResourceExhausted("out of memory on " + description_.device + " even with " +
                                         std::to_string(smaller.process_size) + "-pixel tiles one at a time: " +
                                         result.status().message());
    }
  }
  model::ReleaseCachedMemory(device_);
  return result;
}

proto::MemoryStats TorchUpscaler::Memory() const { return model::DeviceMemory(device_); }

model::GpuReadings TorchUpscaler::Gpu() const { return model::DeviceGpuReadings(device_); }

Status TorchUpscaler::Warmup() {
  // A 24×24 gradient at every scale (a multi-scale model runs one network per scale) and the smallest tile:
  // one tile, every code path of a real job.
  cv::Mat image(24, 24, CV_8UC3);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 10, y * 10, (x + y) * 5);
  }
  for (int scale : description_.scales) {
    UpscaleRequest request;
    request.scale = scale;
    request.process_size = kMinProcessSize;
    Result<cv::Mat> out = Upscale(image, request);
    if (!out.ok()) {
      return Status(out.status().code(), "warm-up at x" + std::to_string(scale) + " failed: " + out.status().message());
    }
  }
  return Status::Ok();
}

}  // namespace tsdsr::worker

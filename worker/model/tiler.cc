#include "worker/model/tiler.h"

#include <algorithm>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include <ATen/ops/cat.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/zeros.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

namespace tsdsr::model {
namespace {

Status ValidateJob(const TileModel& model, const TilerOptions& options, const at::Tensor& image,
                   const TileJob& job) {
  if (!image.defined() || image.dim() != 4 || image.size(0) != 1 || image.size(2) < 1 || image.size(3) < 1) {
    return Status::InvalidArgument("the tiler takes one image shaped (1, C, H, W)");
  }
  if (!image.is_floating_point()) return Status::InvalidArgument("the tiler takes a floating-point image");
  const std::vector<int>& scales = model.scales();
  if (std::find(scales.begin(), scales.end(), job.scale) == scales.end()) {
    std::string list;
    for (int s : scales) list += (list.empty() ? "" : ", ") + std::to_string(s);
    return Status::InvalidArgument("model " + model.name() + " does not upscale by " + std::to_string(job.scale) +
                                   " (it does " + list + ")");
  }
  if (options.tile_batch < 1) {
    return Status::InvalidArgument("tile_batch must be at least 1, got " + std::to_string(options.tile_batch));
  }
  if (options.overlap < 0) {
    return Status::InvalidArgument("tile overlap must not be negative, got " + std::to_string(options.overlap));
  }
  if (options.memory_budget < 0) return Status::InvalidArgument("the tile memory budget must not be negative");
  return Status::Ok();
}

// The weights of every tile of an axis as one (tiles, tile·scale) float32 tensor on `device`.
at::Tensor AxisWeights(const TileAxis& axis, c10::Device device) {
  const int64_t width = static_cast<int64_t>(axis.tile) * axis.scale;
  std::vector<float> flat;
  flat.reserve(static_cast<size_t>(axis.count()) * width);
  for (const auto& w : axis.weights) flat.insert(flat.end(), w.begin(), w.end());
  at::Tensor view = at::from_blob(flat.data(), {axis.count(), width}, at::kFloat);
  return view.to(device, at::kFloat, /*non_blocking=*/false, /*copy=*/true);
}

// Checks the model kept its promise on the output shape; a wrong one would blend garbage or throw later.
Status CheckOutput(const at::Tensor& out, int64_t n, int64_t channels, int64_t height, int64_t width) {
  const std::vector<int64_t> want = {n, channels, height, width};
  if (out.defined() && out.sizes().vec() == want) return Status::Ok();
  std::string got = out.defined() ? "(" : "undefined";
  if (out.defined()) {
    for (int64_t d : out.sizes()) got += (got.size() > 1 ? ", " : "") + std::to_string(d);
    got += ")";
  }
  return Status::Internal("model returned a tile batch of shape " + got + ", expected (" + std::to_string(n) +
                          ", " + std::to_string(channels) + ", " + std::to_string(height) + ", " +
                          std::to_string(width) + ")");
}

// The body of Tiler::Run once the arguments are valid; lets c10::Error through.
Result<at::Tensor> RunPlan(TileModel& model, const TilePlan& plan, const at::Tensor& input, const TileJob& job,
                           int tile_batch) {
  const c10::Device device = model.device();
  const at::Tensor image = input.to(device);
  const int s = plan.scale();
  const int64_t channels = image.size(1);
  const int64_t out_h = static_cast<int64_t>(plan.tile_height()) * s;
  const int64_t out_w = static_cast<int64_t>(plan.tile_width()) * s;
  at::Tensor output = at::zeros({1, channels, image.size(2) * s, image.size(3) * s},
                                at::TensorOptions().dtype(at::kFloat).device(device));
  at::Tensor output_image = output[0];
  const at::Tensor weights_x = AxisWeights(plan.x(), device);
  const at::Tensor weights_y = AxisWeights(plan.y(), device);
  const int total = plan.count();
  for (int first = 0; first < total; first += tile_batch) {
    if (job.cancelled && job.cancelled()) {
      return Status::Cancelled("cancelled after " + std::to_string(first) + " of " + std::to_string(total) +
                               " tiles");
    }
    const int n = std::min(tile_batch, total - first);
    std::vector<at::Tensor> tiles;
    tiles.reserve(n);
    for (int i = 0; i < n; ++i) {
      const TileRect t = plan.Tile(first + i);
      tiles.push_back(image.narrow(2, t.y, t.height).narrow(3, t.x, t.width));
    }
    at::Tensor result = model.Forward(at::cat(tiles, 0).to(model.dtype()), s);
    TSDSR_RETURN_IF_ERROR(CheckOutput(result, n, channels, out_h, out_w));
    result = result.to(device, at::kFloat);
    for (int i = 0; i < n; ++i) {
      const TileRect t = plan.Tile(first + i);
      const at::Tensor weight = weights_y[t.row].unsqueeze(1).mul(weights_x[t.col].unsqueeze(0));
      output_image.narrow(1, static_cast<int64_t>(t.y) * s, out_h)
          .narrow(2, static_cast<int64_t>(t.x) * s, out_w)
          .addcmul_(result[i], weight);
    }
    if (job.on_progress) job.on_progress(first + n, total);
  }
  return output;
}

}  // namespace

Status StatusFromTorchError(const c10::Error& error, const std::string& context) {
  const std::string message = error.what_without_backtrace();
  // CUDA: c10::OutOfMemoryError, "CUDA out of memory"; CPU: "DefaultCPUAllocator: not enough memory".
  const bool out_of_memory = dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr ||
                             message.find("out of memory") != std::string::npos ||
                             message.find("not enough memory") != std::string::npos ||
                             message.find("can't allocate memory") != std::string::npos;
  if (out_of_memory) return Status::ResourceExhausted(message);
  return Status::Internal(context + ": " + message);
}

Result<std::pair<TileGrid, int>> Tiler::GridFor(int width, int height, const TileJob& job) const {
  const TileFootprint footprint = model_->footprint(job.scale);
  if (footprint.context > 0 && footprint.bytes_per_pixel > 0 && options_.memory_budget > 0) {
    const std::int64_t max_pixels = options_.memory_budget / footprint.bytes_per_pixel;
    if (auto grid = ChooseTiles(width, height, footprint.context, max_pixels)) {
      const std::int64_t tile = std::int64_t{std::min(grid->tile_width, width)} * std::min(grid->tile_height, height);
      const auto batch = static_cast<int>(std::clamp<std::int64_t>(max_pixels / tile, 1, options_.tile_batch));
      return std::make_pair(*grid, batch);
    }
  }
  if (job.process_size < 1) {
    return Status::InvalidArgument("process_size must be at least 1, got " + std::to_string(job.process_size));
  }
  const int overlap = options_.overlap > 0 ? options_.overlap : DefaultOverlap(job.process_size);
  return std::make_pair(TileGrid{job.process_size, job.process_size, overlap, -1}, options_.tile_batch);
}

Result<at::Tensor> Tiler::Run(const at::Tensor& image, const TileJob& job) const {
  TSDSR_RETURN_IF_ERROR(ValidateJob(*model_, options_, image, job));
  const int width = static_cast<int>(image.size(3));
  const int height = static_cast<int>(image.size(2));
  TSDSR_ASSIGN_OR_RETURN(auto grid, GridFor(width, height, job));
  TSDSR_ASSIGN_OR_RETURN(TilePlan plan, TilePlan::Create(width, height, grid.first, job.scale));
  try {
    c10::InferenceMode inference;
    return RunPlan(*model_, plan, image, job, grid.second);
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "model " + model_->name() + " failed");
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of host memory while tiling");
  } catch (const std::exception& e) {
    return Status::Internal("model " + model_->name() + " failed: " + e.what());
  }
}

}  // namespace tsdsr::model

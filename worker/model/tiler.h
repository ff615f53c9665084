// Tiler: runs a TileModel over a whole image, tile batch by tile batch, and blends the outputs with the
// TilePlan's weights on the model's device. Memory is bounded by the tile batch, not the frame, except for the
// input and output images themselves. A model with a TileFootprint gets the largest tiles `memory_budget`
// allows (ChooseTiles: a small image in one call, a 1080p frame in a few), guarded by its context; any other
// gets process_size squares.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include "common/status.h"
#include "worker/model/tile_model.h"
#include "worker/model/tile_plan.h"

namespace tsdsr::model {

inline constexpr std::int64_t kDefaultTileMemory = std::int64_t{2} << 30;  // 2 GiB

struct TilerOptions {
  int tile_batch = 4;  // tiles per TileModel::Forward call; at least 1
  int overlap = 0;     // LR pixels shared by neighbouring process_size tiles; 0 = DefaultOverlap(process_size)
  // Bytes one Forward call may take with a model that has a TileFootprint; 0 = process_size tiles for every model.
  std::int64_t memory_budget = kDefaultTileMemory;
};

// One image's run.
struct TileJob {
  int scale = 2;           // one of the model's scales()
  int process_size = 128;  // LR tile edge
  // Called after each batch with (tiles done, tiles total). May be empty.
  std::function<void(int done, int total)> on_progress;
  // Polled before each batch; when it returns true Run stops and returns Cancelled. May be empty.
  std::function<bool()> cancelled;
};

// The Status for a LibTorch error: ResourceExhausted with the message when it says a device or the host ran out
// of memory, else Internal("<context>: <message>"). Backtraces are left out.
Status StatusFromTorchError(const c10::Error& error, const std::string& context);

class Tiler {
 public:
  // `model` is not owned and must outlive the Tiler.
  Tiler(TileModel* model, TilerOptions options) : model_(model), options_(options) {}

  // Upscales `image`, (1, C, H, W) floating point in [0, 1] (moved to the model's device if elsewhere), to
  // (1, C, H·scale, W·scale) float32 on the model's device, not clamped. Errors: InvalidArgument (shape,
  // scale, process_size, options), Cancelled, ResourceExhausted (out of memory, with the message), Internal.
  // Runs under InferenceMode. Not thread-safe (the model is not).
  Result<at::Tensor> Run(const at::Tensor& image, const TileJob& job) const;

  const TilerOptions& options() const { return options_; }

  // The grid Run uses for a width×height image at `job`'s scale, and how many of its tiles go in one call.
  Result<std::pair<TileGrid, int>> GridFor(int width, int height, const TileJob& job) const;

 private:
  TileModel* model_;
  TilerOptions options_;
};

}  // namespace tsdsr::model

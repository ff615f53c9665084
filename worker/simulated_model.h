// SimulatedModel ("simulated:MS"): a stand-in for an accelerator that holds the worker for MS milliseconds
// per tile without using the CPU, so the dispatcher's scheduling can be measured with many workers on a
// small machine (bench/pool_bench.cc). The output is a nearest-neighbour upscale: right size, cheap, not SR.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/model/tile_model.h"

namespace tsdsr::worker {

class SimulatedModel : public model::TileModel {
 public:
  // Longest simulated time per tile: ten minutes.
  static constexpr std::int64_t kMaxMillisPerTile = 600000;

  // `argument` is the MS of "simulated:MS": whole milliseconds per tile, 0..kMaxMillisPerTile.
  // InvalidArgument naming the accepted range for anything else (empty, signs, units, out of range).
  static Result<std::unique_ptr<SimulatedModel>> Create(std::string_view argument);

  // Sleeps MS × N (N = tiles in the batch, so a job of T tiles takes about MS × T in all), then returns each
  // tile repeated `scale` times along both axes. Throws c10::Error for a scale other than 2 or 4 or a batch not
  // shaped (N, C, h, w). The sleep is not interruptible: cancellation is noticed by the Tiler, which polls
  // between batches, i.e. within MS × tile_batch. Not thread-safe (like every TileModel).
  at::Tensor Forward(const at::Tensor& batch, int scale) override;

  // {2, 4}.
  const std::vector<int>& scales() const override { return scales_; }
  // "simulated".
  const std::string& name() const override { return name_; }
  // float32 on the CPU, whatever device the worker was given: nothing runs anywhere else.
  c10::ScalarType dtype() const override { return c10::ScalarType::Float; }
  c10::Device device() const override { return c10::Device(c10::kCPU); }
  // Nearest neighbour looks at one pixel, so an image split into pieces comes out the same; no memory figure, so
  // tiles stay process_size (the time is per tile).
  model::TileFootprint footprint(int /*scale*/) const override { return {1, 0}; }

  // The MS of "simulated:MS".
  std::int64_t millis_per_tile() const { return millis_per_tile_; }

 private:
  explicit SimulatedModel(std::int64_t millis_per_tile) : millis_per_tile_(millis_per_tile) {}

  std::int64_t millis_per_tile_;
  std::string name_ = "simulated";
  std::vector<int> scales_ = {2, 4};
};

}  // namespace tsdsr::worker

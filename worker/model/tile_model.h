// TileModel: the interface every super-resolution network implements (interpolation, pretrained CNNs,
// TorchScript, TSD-SR). It sees batches of tiles; the Tiler cuts and blends them.
// Uses only the Tensor class header (about 1 s to compile), not <torch/torch.h>; at::Tensor is torch::Tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace tsdsr::model {

// What lets the Tiler cut an image into tiles of any shape (ChooseTiles) instead of process_size squares.
struct TileFootprint {
  // LR pixels of input on every side of an output pixel that its value depends on, within a quarter grey level:
  // a network's measured receptive field (MeasureContext). 0: tiles must stay process_size: the output depends on
  // the tile itself (TSD-SR's latent tiles), or is not known to be translation-invariant (TorchScript), or the
  // model's cost is per tile whatever its size (simulated).
  int context = 0;
  // Bytes Forward needs per LR pixel of its batch (activations, with a margin): sizes tiles to a memory budget.
  // 0: tiles stay process_size even with a context (a model whose cost is per tile).
  std::int64_t bytes_per_pixel = 0;
};

class TileModel {
 public:
  virtual ~TileModel() = default;

  // Upscales a batch of RGB tiles: (N, 3, h, w) in [0, 1], of dtype() on device() → (N, 3, h·scale, w·scale),
  // same dtype and device, values about [0, 1] (the caller clamps). `scale` is one of scales(); any h, w ≥ 1
  // is accepted (a network that needs multiples pads inside). Throws c10::Error on failure. Not thread-safe.
  virtual at::Tensor Forward(const at::Tensor& batch, int scale) = 0;

  // The upscale factors Forward accepts, ascending.
  virtual const std::vector<int>& scales() const = 0;
  // What runs, e.g. "bicubic"; reported to the dispatcher as the worker's model_name.
  virtual const std::string& name() const = 0;
  // The dtype Forward takes and returns.
  virtual c10::ScalarType dtype() const = 0;
  // Where Forward's tensors live.
  virtual c10::Device device() const = 0;
  // How free the tiler is at `scale` (one of scales()); by default not at all.
  virtual TileFootprint footprint(int /*scale*/) const { return {}; }
};

}  // namespace tsdsr::model

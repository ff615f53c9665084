// TorchscriptModel ("--model torchscript:PATH --model-scale S"): any single-network super-resolution model saved
// with torch.jit.save (traced or scripted, e.g. a traced Real-ESRGAN), run as a TileModel.
//
// The network's contract (README, "TorchScript models"): forward(x) takes one float tensor (N, 3, h, w), RGB,
// values in [0, 1], and returns one tensor (N, 3, h·S, w·S) with values in about [0, 1] (the worker clamps).
//
// At load the model is probed under InferenceMode, so a wrong file or flag is refused at start and not on the
// first job:
//  1. a 1×3×16×16 ramp (16 is a multiple of every window or unshuffle factor common SR networks need: 2, 4, 8,
//     16) must come back as a tensor 1×3×16S×16S, else InvalidArgument saying what came out;
//  2. the smallest input multiple m in 1, 2, 4, 8, 16 is found by running a (16+m)×(16+2m) input, whose sizes
//     are multiples of m but not both of 2m (17×18 for m = 1, ..., 32×48 for m = 16): the first that runs and
//     has the right shape sets m. A model that runs at 16×16 only (e.g. traced with sizes baked in) is refused.
// Forward pads each tile at its bottom and right edges, replicating the last row and column, up to a multiple
// of m, and crops the output back to h·S × w·S. Tiles are rarely padded: process_size (64..256) is a multiple
// of 16, so only tiles of images narrower than process_size can be.
//
// Dtype: the model's floating-point parameters and buffers are converted to `dtype`. The worker uses float32
// on every device: an arbitrary network is not known to be float16-safe (activations can overflow).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/model/tile_model.h"

namespace tsdsr::model {

class TorchscriptModel : public TileModel {
 public:
  // Loads the TorchScript file `path` onto `device` in eval mode, with its floating-point state in `dtype`
  // (float32, float16 or bfloat16), and probes it as the file comment says. Errors: NotFound naming the file
  // when it does not exist; InvalidArgument for a scale outside 1..16, another dtype, a path that is not a
  // file, a file that is not TorchScript (with the loader's first line), a model without forward(), a probe
  // that throws (with its error) or whose output is not S× its input (saying what came out); ResourceExhausted
  // when the device runs out of memory.
  static Result<std::unique_ptr<TorchscriptModel>> Create(const std::string& path, int scale, c10::Device device,
                                                          c10::ScalarType dtype);
  ~TorchscriptModel() override;

  // Runs the network on the batch, padded to input_multiple() and cropped: (N, 3, h, w) in [0, 1] → (N, 3,
  // h·S, w·S) in dtype(), any h, w ≥ 1. Throws c10::Error for another scale, a bad shape, or what the network
  // throws. Not thread-safe (TileModel).
  at::Tensor Forward(const at::Tensor& batch, int scale) override;

  const std::vector<int>& scales() const override { return scales_; }
  // "torchscript:" and the file's name, e.g. "torchscript:realesrgan-x4.pt".
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return dtype_; }
  c10::Device device() const override { return device_; }

  // The multiple the probe found that input heights and widths must have (1, 2, 4, 8 or 16).
  int input_multiple() const { return multiple_; }

 private:
  struct Network;  // the torch::jit::Module, kept out of this header (<torch/script.h> is slow to compile)

  TorchscriptModel(std::unique_ptr<Network> network, const std::string& path, int scale, int multiple,
                   c10::Device device, c10::ScalarType dtype);

  std::unique_ptr<Network> network_;
  std::string name_;
  std::vector<int> scales_;
  int multiple_;
  c10::Device device_;
  c10::ScalarType dtype_;
};

}  // namespace tsdsr::model

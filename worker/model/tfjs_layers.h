// The Keras layer types the built-in models use, each turned once at load into a GraphOp (weights converted
// to the run's layout, dtype and device) and run on NCHW tensors: InputLayer, Conv2D ("same"/"valid", stride
// 1), Activation (linear, relu), Concatenate, Add, MultiplyBeta (× beta), PixelShuffleNx (TF depth_to_space)
// and UpSampling2D (nearest).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "common/status.h"
#include "worker/model/tfjs_model.h"

namespace tsdsr::model {

enum class OpKind { kInput, kConv2D, kActivation, kConcatenate, kAdd, kScale, kDepthToSpace, kUpsampleNearest };
enum class Activation { kLinear, kRelu };

// One layer, ready to run.
struct GraphOp {
  OpKind kind = OpKind::kInput;
  std::string name;          // the Keras layer's name, for messages
  int64_t out_channels = 0;  // channels of its output
  // kConv2D: weight (out, in, kh, kw) and bias (out) or undefined, in the run's dtype on its device.
  at::Tensor weight;
  at::Tensor bias;
  // kConv2D on CPU float32: run by oneDNN (mkldnn_convolution) on channels-last tensors, the weight stored
  // channels-last; otherwise by at::conv2d.
  bool onednn = false;
  std::array<int64_t, 4> padding{};  // left, right, top, bottom (zeros); all 0 for "valid"
  std::array<int64_t, 2> dilation{1, 1};
  // kConv2D: DepthToSpace(output, shuffle_after) follows the convolution (and its activation) when > 1: an
  // UpSampling2D folded into it (see TfjsGraph).
  int64_t shuffle_after = 1;
  Activation activation = Activation::kLinear;  // kConv2D (applied after it) and kActivation
  int64_t axis = 1;                             // kConcatenate: the NCHW dimension
  double factor = 1.0;                          // kScale
  int64_t block_y = 1;                          // kDepthToSpace (block_y == block_x), kUpsampleNearest
  int64_t block_x = 1;
};

// Builds the op of `layer` whose inputs have `input_channels` channels (one entry per input). Takes the weights
// it uses out of `weights` (so what remains afterwards belongs to no layer) and converts them with `options`.
// InvalidArgument, prefixed with `path` and naming the layer, for an unknown layer type (listing the supported
// ones), an unsupported setting, a missing or misshaped weight, or a channel count that does not fit; a
// LibTorch error while converting the weights as StatusFromTorchError (e.g. ResourceExhausted).
Result<GraphOp> BuildOp(const TfjsLayer& layer, const std::vector<int64_t>& input_channels,
                        std::map<std::string, at::Tensor>& weights, const c10::TensorOptions& options,
                        const std::string& path);

// Runs `op` on its inputs (NCHW sizes, in the order of the layer's inputs; none for kInput) and returns its output,
// NCHW sizes in any memory layout (a oneDNN convolution's is channels-last). An input that nothing else references
// (its tensor and storage held only by `inputs`) may be overwritten and returned: relu, add and scale then work
// in place. Throws c10::Error.
at::Tensor RunOp(const GraphOp& op, const std::vector<at::Tensor>& inputs);

}  // namespace tsdsr::model

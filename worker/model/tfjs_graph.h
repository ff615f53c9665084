// TfjsGraph: runs a functional Keras graph from a TensorFlow.js layers model in LibTorch, on NCHW tensors.
// Built once from a TfjsModel (weights converted to the run's dtype and device at that point), then run
// any number of times.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "common/status.h"
#include "worker/model/tfjs_layers.h"
#include "worker/model/tfjs_model.h"

namespace tsdsr::model {

class TfjsGraph {
 public:
  // Orders the layers, builds each (see BuildOp) with weights converted to `options` (dtype, device), and checks
  // the whole: one input and one output layer, no cycle, every weight used by a layer, channel counts that fit.
  // InvalidArgument naming model.path and the layer or weight otherwise. `model` is only read.
  static Result<std::unique_ptr<TfjsGraph>> Create(const TfjsModel& model, const c10::TensorOptions& options);

  // Runs the network on `input`, (N, input_channels(), H, W) of the graph's dtype on its device — the NCHW
  // transpose of the Keras model's NHWC input — and returns its output, NCHW (contiguous). Never writes to `input`.
  // Throws c10::Error naming the layer that failed (out-of-memory errors pass through unchanged). Runs under
  // InferenceMode. Thread-safe: Run only reads the graph.
  at::Tensor Run(const at::Tensor& input) const;

  int64_t input_channels() const { return nodes_[input_].op.out_channels; }
  int64_t output_channels() const { return nodes_[output_].op.out_channels; }
  // Layers that run (the input included).
  size_t layer_count() const { return order_.size(); }
  // The most tensor elements alive at once during Run, per pixel of the input (channels × area, in the order Run
  // frees them; an op's inputs count until it has run): what Run's memory grows with.
  int64_t PeakValuesPerPixel() const;

 private:
  struct Node {
    GraphOp op;
    std::vector<int> inputs;   // node indices
    std::vector<bool> take;    // per input: this is its last use and it is fed once, so its value is moved
                               // to the op (which may then overwrite it, see RunOp)
    std::vector<int> release;  // nodes whose value is no longer needed once this one has run
  };

  TfjsGraph() = default;
  Status FoldUpsampling();
  Status Link(const TfjsModel& model);

  std::string path_;
  std::vector<Node> nodes_;  // in an order where every input precedes its consumers
  std::vector<int> order_;   // the nodes the output depends on, in that order
  int input_ = 0;
  int output_ = 0;
};

}  // namespace tsdsr::model

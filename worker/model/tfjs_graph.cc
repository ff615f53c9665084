#include "worker/model/tfjs_graph.h"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include <c10/core/InferenceMode.h>
#include <c10/core/MemoryFormat.h>
#include <c10/util/Exception.h>

#include "worker/model/tfjs_ops.h"
#include "worker/model/tiler.h"

namespace tsdsr::model {
namespace {

Status Bad(const std::string& path, const std::string& what) { return Status::InvalidArgument(path + ": " + what); }

// Indices of model.layers with every layer after the layers it takes input from (file order among equals).
Result<std::vector<int>> TopologicalOrder(const TfjsModel& model) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < model.layers.size(); ++i) index[model.layers[i].name] = static_cast<int>(i);
  std::vector<int> waiting(model.layers.size(), 0);  // inputs not yet placed
  std::vector<std::vector<int>> consumers(model.layers.size());
  for (size_t i = 0; i < model.layers.size(); ++i) {
    for (const TfjsLayerInput& input : model.layers[i].inputs) {
      if (input.node_index != 0 || input.tensor_index != 0) {
        return Bad(model.path, "layer '" + model.layers[i].name + "' takes output " +
                                   std::to_string(input.tensor_index) + " of call " + std::to_string(input.node_index) +
                                   " of '" + input.layer + "'; only layers called once with one output are supported");
      }
      const auto producer = index.find(input.layer);
      if (producer == index.end()) {
        return Bad(model.path, "layer '" + model.layers[i].name + "' takes input from unknown '" + input.layer + "'");
      }
      consumers[producer->second].push_back(static_cast<int>(i));
      ++waiting[i];
    }
  }
  std::deque<int> ready;
  for (size_t i = 0; i < waiting.size(); ++i) {
    if (waiting[i] == 0) ready.push_back(static_cast<int>(i));
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int next = ready.front();
    ready.pop_front();
    order.push_back(next);
    for (int consumer : consumers[next]) {
      if (--waiting[consumer] == 0) ready.push_back(consumer);
    }
  }
  if (order.size() != model.layers.size()) {
    for (size_t i = 0; i < waiting.size(); ++i) {
      if (waiting[i] > 0) return Bad(model.path, "layer '" + model.layers[i].name + "' is part of a cycle");
    }
  }
  return order;
}

std::string Names(const std::map<std::string, at::Tensor>& weights) {
  std::string names;
  for (const auto& [name, tensor] : weights) {
    if (names.size() > 200) return names + ", ...";
    names += (names.empty() ? "" : ", ") + name;
  }
  return names;
}

}  // namespace

Result<std::unique_ptr<TfjsGraph>> TfjsGraph::Create(const TfjsModel& model, const c10::TensorOptions& options) {
  if (model.input_layers.size() != 1 || model.output_layers.size() != 1) {
    return Bad(model.path, "only models with one input and one output are supported");
  }
  TSDSR_ASSIGN_OR_RETURN(const std::vector<int> order, TopologicalOrder(model));
  std::unique_ptr<TfjsGraph> graph(new TfjsGraph());
  graph->path_ = model.path;
  std::map<std::string, at::Tensor> weights = model.weights;  // BuildOp takes out what it uses
  std::map<std::string, int> node_of;
  for (int layer_index : order) {
    const TfjsLayer& layer = model.layers[layer_index];
    Node node;
    std::vector<int64_t> channels;
    for (const TfjsLayerInput& input : layer.inputs) {
      node.inputs.push_back(node_of.at(input.layer));
      channels.push_back(graph->nodes_[node.inputs.back()].op.out_channels);
    }
    TSDSR_ASSIGN_OR_RETURN(node.op, BuildOp(layer, channels, weights, options, model.path));
    node_of[layer.name] = static_cast<int>(graph->nodes_.size());
    graph->nodes_.push_back(std::move(node));
  }
  if (!weights.empty()) {
    return Bad(model.path, std::to_string(weights.size()) + " weight(s) belong to no layer: " + Names(weights));
  }
  const auto input = node_of.find(model.input_layers[0]);
  const auto output = node_of.find(model.output_layers[0]);
  if (input == node_of.end() || output == node_of.end()) return Bad(model.path, "input or output layer missing");
  graph->input_ = input->second;
  graph->output_ = output->second;
  if (graph->nodes_[graph->input_].op.kind != OpKind::kInput) {
    return Bad(model.path, "input layer '" + model.input_layers[0] + "' is not an InputLayer");
  }
  TSDSR_RETURN_IF_ERROR(graph->FoldUpsampling());
  TSDSR_RETURN_IF_ERROR(graph->Link(model));
  return graph;
}

// Folds each square nearest UpSampling2D whose only consumer is a stride-1, dilation-1, "same" convolution with
// an odd kernel into that convolution (UpsampledConvKernel): it then runs at the low resolution with block² times
// the filters, and a DepthToSpace puts its output in place. The same image up to float rounding, without the
// upsampled tensor (48–192 channels at the output size in the x4 and x8 models) and its convolution with 3
// filters, which oneDNN runs far below its speed. The UpSampling2D, left without consumers, is then not run.
// A LibTorch error while converting the weights (e.g. out of device memory) as StatusFromTorchError.
Status TfjsGraph::FoldUpsampling() {
  std::vector<int> consumers(nodes_.size(), 0);
  for (const Node& node : nodes_) {
    for (int input : node.inputs) ++consumers[input];
  }
  try {
    for (Node& node : nodes_) {
      GraphOp& conv = node.op;
      if (conv.kind != OpKind::kConv2D || node.inputs.size() != 1 || conv.shuffle_after != 1) continue;
      const int up = node.inputs[0];
      const GraphOp& upsample = nodes_[up].op;
      const int64_t kh = conv.weight.size(2);
      const int64_t kw = conv.weight.size(3);
      if (upsample.kind != OpKind::kUpsampleNearest || upsample.block_y != upsample.block_x || consumers[up] != 1 ||
          kh % 2 == 0 || kw % 2 == 0 || conv.dilation != std::array<int64_t, 2>{1, 1} ||
          conv.padding != SamePadding(kh, kw, 1, 1)) {
        continue;
      }
      const int64_t block = upsample.block_y;
      const at::Tensor weight = UpsampledConvKernel(conv.weight, block);
      conv.weight = conv.onednn ? weight.contiguous(c10::MemoryFormat::ChannelsLast) : weight.contiguous();
      if (conv.bias.defined()) conv.bias = conv.bias.repeat({block * block});
      conv.padding = SamePadding(weight.size(2), weight.size(3), 1, 1);
      conv.shuffle_after = block;
      node.inputs[0] = nodes_[up].inputs[0];
    }
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, path_ + ": folding an upsampling into a convolution");
  }
  return Status::Ok();
}

// Keeps the nodes the output depends on and plans when each value can be freed.
Status TfjsGraph::Link(const TfjsModel& model) {
  std::vector<bool> needed(nodes_.size(), false);
  needed[output_] = true;
  for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
    if (!needed[i]) continue;
    for (int input : nodes_[i].inputs) needed[input] = true;
  }
  std::vector<int> last_use(nodes_.size(), -1);
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    if (!needed[i]) continue;
    if (nodes_[i].op.kind == OpKind::kInput && i != input_) {
      return Bad(model.path, "the output depends on InputLayer '" + nodes_[i].op.name + "', which is not fed");
    }
    order_.push_back(i);
    for (int input : nodes_[i].inputs) last_use[input] = i;
  }
  for (int i : order_) {
    if (last_use[i] >= 0 && i != output_) nodes_[last_use[i]].release.push_back(i);
  }
  for (int i : order_) {
    Node& node = nodes_[i];
    for (int input : node.inputs) {
      const bool once = std::count(node.inputs.begin(), node.inputs.end(), input) == 1;
      node.take.push_back(once && last_use[input] == i && input != output_);
    }
  }
  return Status::Ok();
}

int64_t TfjsGraph::PeakValuesPerPixel() const {
  std::vector<int64_t> area(nodes_.size(), 1);  // a node's pixels per input pixel
  std::vector<int64_t> values(nodes_.size(), 0);
  int64_t live = 0;
  int64_t peak = 0;
  for (int i : order_) {
    const Node& node = nodes_[i];
    const GraphOp& op = node.op;
    if (!node.inputs.empty()) area[i] = area[node.inputs.front()];
    if (op.kind == OpKind::kConv2D) area[i] *= op.shuffle_after * op.shuffle_after;
    if (op.kind == OpKind::kDepthToSpace || op.kind == OpKind::kUpsampleNearest) area[i] *= op.block_y * op.block_x;
    values[i] = op.out_channels * area[i];
    live += values[i];
    peak = std::max(peak, live);
    for (int j : node.release) live -= values[j];
  }
  return peak;
}

at::Tensor TfjsGraph::Run(const at::Tensor& input) const {
  c10::InferenceMode inference_mode;
  const GraphOp& in = nodes_[input_].op;
  TORCH_CHECK(input.dim() == 4 && input.size(1) == in.out_channels, path_, ": the network takes (N, ", in.out_channels,
              ", H, W), got ", input.sizes());
  std::vector<at::Tensor> values(nodes_.size());
  std::vector<at::Tensor> args;
  for (int i : order_) {
    const Node& node = nodes_[i];
    if (i == input_) {
      values[i] = input;
    } else {
      args.clear();
      for (size_t k = 0; k < node.inputs.size(); ++k) {
        at::Tensor& value = values[node.inputs[k]];
        args.push_back(node.take[k] ? std::move(value) : value);
      }
      try {
        values[i] = RunOp(node.op, args);
      } catch (const c10::OutOfMemoryError&) {
        throw;
      } catch (const c10::Error& e) {
        TORCH_CHECK(false, path_, ": layer '", node.op.name, "': ", e.what_without_backtrace());
      }
    }
    args.clear();
    for (int j : node.release) values[j].reset();
  }
  return values[output_].contiguous();
}

}  // namespace tsdsr::model

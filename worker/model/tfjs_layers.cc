#include "worker/model/tfjs_layers.h"

#include <optional>
#include <utility>

#include <ATen/Context.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/ops/relu.h>
#include <c10/util/Exception.h>

#include "worker/model/tfjs_ops.h"
#include "worker/model/tiler.h"

namespace tsdsr::model {
namespace {

using nlohmann::json;

constexpr const char* kSupportedLayers =
    "InputLayer, Conv2D, Activation, Concatenate, Add, MultiplyBeta, PixelShuffleNx, UpSampling2D";

// What every builder gets.
struct Build {
  const TfjsLayer& layer;
  const std::vector<int64_t>& in;  // input channel counts
  std::map<std::string, at::Tensor>& weights;
  const c10::TensorOptions& options;
  const std::string& path;

  Status Error(const std::string& what) const {
    return Status::InvalidArgument(path + ": layer '" + layer.name + "' (" + layer.class_name + "): " + what);
  }
  Status ExpectInputs(size_t count) const {
    if (in.size() == count) return Status::Ok();
    return Error("takes " + std::to_string(count) + " input(s), has " + std::to_string(in.size()));
  }
  const json& config() const { return layer.config; }
};

std::string ShapeString(c10::IntArrayRef shape) {
  std::string s = "[";
  for (int64_t d : shape) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
  return s + "]";
}

// A pair setting written as [a, b] or as one integer; `fallback` when absent.
Result<std::array<int64_t, 2>> IntPair(const Build& b, const char* key, std::array<int64_t, 2> fallback) {
  const auto it = b.config().find(key);
  if (it == b.config().end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return std::array<int64_t, 2>{it->get<int64_t>(), it->get<int64_t>()};
  if (it->is_array() && it->size() == 2 && (*it)[0].is_number_integer() && (*it)[1].is_number_integer()) {
    return std::array<int64_t, 2>{(*it)[0].get<int64_t>(), (*it)[1].get<int64_t>()};
  }
  return b.Error(std::string("unsupported ") + key + " " + it->dump());
}

Result<Activation> ParseActivation(const Build& b) {
  const json value = b.config().value("activation", json("linear"));
  const std::string name = value.is_string() ? value.get<std::string>() : value.dump();
  if (name == "linear") return Activation::kLinear;
  if (name == "relu") return Activation::kRelu;
  return b.Error("activation '" + name + "' is not supported (linear, relu)");
}

Status ExpectChannelsLast(const Build& b) {
  const std::string format = b.config().value("data_format", "channels_last");
  if (format == "channels_last") return Status::Ok();
  return b.Error("data_format '" + format + "' is not supported (channels_last)");
}

// Takes weight "<layer>/<suffix>" out of the table after checking its shape.
Result<at::Tensor> TakeWeight(const Build& b, const std::string& suffix, const std::vector<int64_t>& shape) {
  const std::string name = b.layer.name + "/" + suffix;
  auto it = b.weights.find(name);
  if (it == b.weights.end()) return b.Error("weight '" + name + "' is not in the weightsManifest");
  if (it->second.sizes().vec() != shape) {
    return b.Error("weight '" + name + "' has shape " + ShapeString(it->second.sizes()) + ", the layer needs " +
                   ShapeString(shape));
  }
  at::Tensor weight = std::move(it->second);
  b.weights.erase(it);
  return weight;
}

Result<GraphOp> BuildInput(const Build& b) {
  TSDSR_RETURN_IF_ERROR(b.ExpectInputs(0));
  const json shape = b.config().value("batch_input_shape", b.config().value("batch_shape", json()));
  if (!shape.is_array() || shape.size() != 4 || !shape[3].is_number_integer() || shape[3].get<int64_t>() < 1) {
    return b.Error("needs a batch_input_shape [batch, height, width, channels] with known channels, got " +
                   shape.dump());
  }
  GraphOp op;
  op.out_channels = shape[3].get<int64_t>();
  return op;
}

// Whether convolutions in `options` go to oneDNN directly. LibTorch's own choice (at::conv2d) sends 1×1 kernels
// and inputs under 20480 values with batch 1 to its im2col + BLAS path, made for a fast BLAS: with the reference
// BLAS that Debian's LibTorch links it is several times slower than oneDNN (70% of medium-x4's time went there).
// Channels-last spares oneDNN a reorder of the activations into and out of its blocked layout at every layer
// (10–20% on the RRDB models). See bench/README.md, "Built-in models: CPU speed".
bool UseOneDnn(const c10::TensorOptions& options) {
  return options.device().is_cpu() && options.dtype() == at::kFloat && at::hasMKLDNN() &&
         at::globalContext().userEnabledMkldnn();
}

// Conv2D settings other than weights: stride 1, one group, channels last, "same" or "valid".
Status ParseConvSettings(const Build& b, GraphOp& op, std::array<int64_t, 2>& kernel) {
  TSDSR_RETURN_IF_ERROR(ExpectChannelsLast(b));
  TSDSR_ASSIGN_OR_RETURN(const auto strides, IntPair(b, "strides", {1, 1}));
  if (strides[0] != 1 || strides[1] != 1) return b.Error("only stride 1 is supported");
  if (b.config().value("groups", 1) != 1) return b.Error("grouped convolutions are not supported");
  TSDSR_ASSIGN_OR_RETURN(kernel, IntPair(b, "kernel_size", {0, 0}));
  TSDSR_ASSIGN_OR_RETURN(op.dilation, IntPair(b, "dilation_rate", {1, 1}));
  if (kernel[0] < 1 || kernel[1] < 1 || op.dilation[0] < 1 || op.dilation[1] < 1) {
    return b.Error("bad kernel_size or dilation_rate");
  }
  const std::string padding = b.config().value("padding", "valid");
  if (padding == "same") {
    op.padding = SamePadding(kernel[0], kernel[1], op.dilation[0], op.dilation[1]);
  } else if (padding != "valid") {
    return b.Error("padding '" + padding + "' is not supported (same, valid)");
  }
  TSDSR_ASSIGN_OR_RETURN(op.activation, ParseActivation(b));
  return Status::Ok();
}

Result<GraphOp> BuildConv(const Build& b) {
  TSDSR_RETURN_IF_ERROR(b.ExpectInputs(1));
  GraphOp op;
  std::array<int64_t, 2> kernel{};
  TSDSR_RETURN_IF_ERROR(ParseConvSettings(b, op, kernel));
  const int64_t filters = b.config().value("filters", int64_t{0});
  if (filters < 1) return b.Error("needs filters ≥ 1");
  TSDSR_ASSIGN_OR_RETURN(at::Tensor hwio, TakeWeight(b, "kernel", {kernel[0], kernel[1], b.in[0], filters}));
  op.onednn = UseOneDnn(b.options);
  op.weight = KernelToOihw(hwio).to(b.options);
  if (op.onednn) op.weight = op.weight.contiguous(at::MemoryFormat::ChannelsLast);
  if (b.config().value("use_bias", true)) {
    TSDSR_ASSIGN_OR_RETURN(at::Tensor bias, TakeWeight(b, "bias", {filters}));
    op.bias = bias.to(b.options);
  }
  op.out_channels = filters;
  return op;
}

Result<GraphOp> BuildActivation(const Build& b) {
  TSDSR_RETURN_IF_ERROR(b.ExpectInputs(1));
  GraphOp op;
  TSDSR_ASSIGN_OR_RETURN(op.activation, ParseActivation(b));
  op.out_channels = b.in[0];
  return op;
}

Result<GraphOp> BuildConcatenate(const Build& b) {
  if (b.in.empty()) return b.Error("has no inputs");
  GraphOp op;
  const json axis = b.config().value("axis", json(-1));
  if (!axis.is_number_integer() || axis.get<int64_t>() < -4 || axis.get<int64_t>() > 3) {
    return b.Error("axis " + axis.dump() + " is out of range for images");
  }
  op.axis = NchwAxis(axis.get<int64_t>());
  for (int64_t c : b.in) {
    if (op.axis != 1 && c != b.in[0]) return b.Error("inputs with different channel counts");
    op.out_channels = op.axis == 1 ? op.out_channels + c : c;
  }
  return op;
}

Result<GraphOp> BuildAdd(const Build& b) {
  if (b.in.empty()) return b.Error("has no inputs");
  for (int64_t c : b.in) {
    if (c != b.in[0]) return b.Error("adds inputs with different channel counts");
  }
  GraphOp op;
  op.out_channels = b.in[0];
  return op;
}

Result<GraphOp> BuildMultiplyBeta(const Build& b) {
  TSDSR_RETURN_IF_ERROR(b.ExpectInputs(1));
  GraphOp op;
  const json beta = b.config().value("beta", json(0.2));  // UpscalerJS's MultiplyBeta hard-codes 0.2
  if (!beta.is_number()) return b.Error("beta " + beta.dump() + " is not a number");
  op.factor = beta.get<double>();
  op.out_channels = b.in[0];
  return op;
}

// "PixelShuffle4x": the block from config "scale", else from the class name; both must agree when present.
Result<GraphOp> BuildPixelShuffle(const Build& b) {
  TSDSR_RETURN_IF_ERROR(b.ExpectInputs(1));
  const std::string& cls = b.layer.class_name;
  std::optional<int64_t> from_name;
  const std::string suffix = cls.substr(std::string("PixelShuffle").size());  // e.g. "4x"
  const std::string digits = suffix.substr(0, suffix.empty() ? 0 : suffix.size() - 1);
  if (suffix.size() >= 2 && suffix.size() <= 4 && suffix.back() == 'x' &&
      digits.find_first_not_of("0123456789") == std::string::npos) {
    from_name = std::stoll(digits);
  }
  const json scale = b.config().value("scale", json());
  if (!scale.is_null() && !scale.is_number_integer()) return b.Error("scale " + scale.dump() + " is not an integer");
  const int64_t block = scale.is_null() ? from_name.value_or(0) : scale.get<int64_t>();
  if (block < 1 || (from_name && *from_name != block)) {
    return b.Error("cannot tell the block size (config scale " + scale.dump() + ")");
  }
  if (b.in[0] % (block * block) != 0) {
    return b.Error(std::to_string(b.in[0]) + " channels do not split into " + std::to_string(block) + "×" +
                   std::to_string(block) + " blocks");
  }
  GraphOp op;
  op.block_y = op.block_x = block;
  op.out_channels = b.in[0] / (block * block);
  return op;
}

Result<GraphOp> BuildUpSampling(const Build& b) {
  TSDSR_RETURN_IF_ERROR(b.ExpectInputs(1));
  TSDSR_RETURN_IF_ERROR(ExpectChannelsLast(b));
  const std::string interpolation = b.config().value("interpolation", "nearest");
  if (interpolation != "nearest") return b.Error("interpolation '" + interpolation + "' is not supported (nearest)");
  GraphOp op;
  TSDSR_ASSIGN_OR_RETURN(const auto size, IntPair(b, "size", {2, 2}));
  if (size[0] < 1 || size[1] < 1) return b.Error("bad size");
  op.block_y = size[0];
  op.block_x = size[1];
  op.out_channels = b.in[0];
  return op;
}

struct Builder {
  const char* class_name;  // exact, or a prefix when it ends in '*'
  OpKind kind;
  Result<GraphOp> (*build)(const Build&);
};

constexpr Builder kBuilders[] = {
    {"InputLayer", OpKind::kInput, BuildInput},
    {"Conv2D", OpKind::kConv2D, BuildConv},
    {"Activation", OpKind::kActivation, BuildActivation},
    {"Concatenate", OpKind::kConcatenate, BuildConcatenate},
    {"Add", OpKind::kAdd, BuildAdd},
    {"MultiplyBeta", OpKind::kScale, BuildMultiplyBeta},
    {"PixelShuffle*", OpKind::kDepthToSpace, BuildPixelShuffle},
    {"UpSampling2D", OpKind::kUpsampleNearest, BuildUpSampling},
};

const Builder* FindBuilder(const std::string& class_name) {
  for (const Builder& builder : kBuilders) {
    const std::string pattern = builder.class_name;
    const bool prefix = pattern.back() == '*';
    if (prefix ? class_name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0 : class_name == pattern) {
      return &builder;
    }
  }
  return nullptr;
}

// Whether `t` may be overwritten: no other tensor or view shares it (see RunOp).
bool Unshared(const at::Tensor& t) { return t.use_count() == 1 && t.storage().use_count() == 1; }

at::Tensor Activate(const at::Tensor& x, Activation activation) {
  if (activation == Activation::kLinear) return x;
  return Unshared(x) ? x.relu_() : at::relu(x);
}

at::Tensor RunConv(const GraphOp& op, const at::Tensor& x) {
  const auto& p = op.padding;  // left, right, top, bottom
  const bool symmetric = p[0] == p[1] && p[2] == p[3];
  const at::Tensor padded = symmetric ? x : at::constant_pad_nd(x, p);
  const std::array<int64_t, 2> padding = {symmetric ? p[2] : 0, symmetric ? p[0] : 0};  // else padded already
  const std::array<int64_t, 2> stride = {1, 1};
  at::Tensor out;
  if (op.onednn) {
    out = at::mkldnn_convolution(padded.contiguous(at::MemoryFormat::ChannelsLast), op.weight, op.bias,
                                 at::IntArrayRef(padding), stride, op.dilation, /*groups=*/1);
  } else {
    out = at::conv2d(padded, op.weight, op.bias, stride, at::IntArrayRef(padding), op.dilation);
  }
  if (op.activation == Activation::kRelu) out.relu_();
  return op.shuffle_after > 1 ? DepthToSpace(out, op.shuffle_after) : out;
}

// The sum of the inputs, accumulated in place into an unshared first or second input when there is one
// (a + b and b + a are the same float).
at::Tensor RunAdd(const std::vector<at::Tensor>& inputs) {
  if (inputs.size() == 1) return inputs[0];
  const size_t into = !Unshared(inputs[0]) && Unshared(inputs[1]) ? 1 : 0;
  const bool in_place = Unshared(inputs[into]) && inputs[0].sizes() == inputs[1].sizes() &&
                        inputs[0].scalar_type() == inputs[1].scalar_type();
  at::Tensor sum = in_place ? inputs[into].add_(inputs[1 - into]) : inputs[0].add(inputs[1]);
  for (size_t i = 2; i < inputs.size(); ++i) sum.add_(inputs[i]);
  return sum;
}

}  // namespace

Result<GraphOp> BuildOp(const TfjsLayer& layer, const std::vector<int64_t>& input_channels,
                        std::map<std::string, at::Tensor>& weights, const c10::TensorOptions& options,
                        const std::string& path) {
  const Build build{layer, input_channels, weights, options, path};
  const Builder* builder = FindBuilder(layer.class_name);
  if (builder == nullptr) {
    return build.Error(std::string("layer type '") + layer.class_name +
                       "' is not supported (supported: " + kSupportedLayers + ")");
  }
  try {
    TSDSR_ASSIGN_OR_RETURN(GraphOp op, builder->build(build));
    op.kind = builder->kind;
    op.name = layer.name;
    return op;
  } catch (const json::exception& e) {
    return build.Error(std::string("malformed config: ") + e.what());
  } catch (const c10::Error& e) {  // converting the weights (e.g. out of device memory)
    return StatusFromTorchError(e, path + ": layer '" + layer.name + "'");
  }
}

at::Tensor RunOp(const GraphOp& op, const std::vector<at::Tensor>& inputs) {
  switch (op.kind) {
    case OpKind::kInput:
      break;
    case OpKind::kConv2D:
      return RunConv(op, inputs[0]);
    case OpKind::kActivation:
      return Activate(inputs[0], op.activation);
    case OpKind::kConcatenate:
      return at::cat(inputs, op.axis);
    case OpKind::kAdd:
      return RunAdd(inputs);
    case OpKind::kScale:
      return Unshared(inputs[0]) ? inputs[0].mul_(op.factor) : inputs[0].mul(op.factor);
    case OpKind::kDepthToSpace:
      return DepthToSpace(inputs[0], op.block_y);
    case OpKind::kUpsampleNearest:
      return UpsampleNearest(inputs[0], op.block_y, op.block_x);
  }
  TORCH_CHECK(false, "layer ", op.name, " has no computation (an input layer is fed, not run)");
}

}  // namespace tsdsr::model

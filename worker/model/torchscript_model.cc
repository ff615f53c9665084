#include "worker/model/torchscript_model.h"

#include <exception>
#include <filesystem>
#include <string>
#include <utility>

#include <c10/core/InferenceMode.h>
#include <torch/script.h>

#include "worker/model/tiler.h"

namespace tsdsr::model {

struct TorchscriptModel::Network {
  torch::jit::Module module;
};

namespace {

constexpr int64_t kProbeSize = 16;  // the first probe's edge; see the header
constexpr int kMaxMultiple = 16;    // the largest input multiple the probe looks for

// The message of an exception from LibTorch, without C++ backtrace. The TorchScript interpreter rethrows the
// errors of a model's ops as std::runtime_error, so not every one is a c10::Error.
std::string MessageOf(const std::exception& e) {
  const auto* error = dynamic_cast<const c10::Error*>(&e);
  return error != nullptr ? error->what_without_backtrace() : e.what();
}

// Whether `e` says a device or the host ran out of memory (as StatusFromTorchError judges a c10::Error).
bool IsOutOfMemory(const std::exception& e) {
  const std::string message = MessageOf(e);
  return dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr ||
         message.find("out of memory") != std::string::npos || message.find("not enough memory") != std::string::npos ||
         message.find("can't allocate memory") != std::string::npos;
}

// The line of an error message that says what went wrong: the first, except for an error raised inside the
// TorchScript interpreter, whose first line is a fixed header and whose last names the error after a traceback.
std::string ErrorSummary(const std::exception& e) {
  const std::string text = MessageOf(e);
  std::string first = text.substr(0, text.find('\n'));
  if (first != "The following operation failed in the TorchScript interpreter.") return first;
  const size_t end = text.find_last_not_of("\n ");
  const size_t newline = text.rfind('\n', end);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(begin, end + 1 - begin);
}

// "1x3x16x16".
std::string ShapeText(const at::Tensor& tensor) {
  std::string text;
  for (int64_t d : tensor.sizes()) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

int64_t RoundUp(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Loads `path` onto `device`. Errors as TorchscriptModel::Create for the file itself.
Result<torch::jit::Module> LoadModule(const std::string& path, c10::Device device) {
  const std::string what = "torchscript model " + path;
  std::error_code error;
  const std::filesystem::file_status file = std::filesystem::status(path, error);
  if (!std::filesystem::exists(file)) return Status::NotFound(what + " does not exist");
  if (!std::filesystem::is_regular_file(file)) return Status::InvalidArgument(what + " is not a file");
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    if (!module.find_method("forward")) return Status::InvalidArgument(what + " has no forward() method");
    return module;
  } catch (const std::exception& e) {
    if (IsOutOfMemory(e)) return Status::ResourceExhausted(what + ": " + ErrorSummary(e));
    return Status::InvalidArgument(what + " cannot be loaded as TorchScript: " + ErrorSummary(e) +
                                   " (save the model with torch.jit.save; torch.save of a model or state_dict is "
                                   "not TorchScript)");
  }
}

// Converts the module's floating-point parameters and buffers to `dtype`; integer ones (indices, counters) keep
// theirs, unlike Module::to(dtype).
void ConvertFloatingState(const torch::jit::Module& module, c10::ScalarType dtype) {
  const auto convert = [dtype](const at::Tensor& tensor) {
    if (tensor.is_floating_point() && tensor.scalar_type() != dtype) tensor.set_data(tensor.to(dtype));
  };
  for (const at::Tensor& parameter : module.parameters()) convert(parameter);
  for (const at::Tensor& buffer : module.buffers()) convert(buffer);
}

// A 1×3×h×w ramp over [0, 1].
at::Tensor ProbeInput(int64_t height, int64_t width, const c10::TensorOptions& options) {
  return torch::linspace(0.0, 1.0, 3 * height * width, options).reshape({1, 3, height, width});
}

// Runs `input` through `module` under InferenceMode and checks the output is one 3-channel tensor `scale`× its
// size. InvalidArgument with what went wrong, phrased to follow "torchscript model PATH"; ResourceExhausted
// when out of memory.
Status RunProbe(torch::jit::Module& module, const at::Tensor& input, int scale) {
  const std::string in = ShapeText(input);
  c10::IValue out;
  try {
    c10::InferenceMode inference;
    out = module.forward({input});
  } catch (const std::exception& e) {
    const std::string problem = ErrorSummary(e);
    if (IsOutOfMemory(e)) return Status::ResourceExhausted("runs out of memory on a " + in + " input: " + problem);
    return Status::InvalidArgument("fails on a " + in + " input: " + problem);
  }
  if (!out.isTensor()) {
    return Status::InvalidArgument("returns a " + out.tagKind() + " for a " + in + " input, not one tensor");
  }
  const at::Tensor y = out.toTensor();
  const std::string turns = "turns " + in + " into " + ShapeText(y);
  if (y.dim() != 4) return Status::InvalidArgument(turns + ", not a 4-D (N, 3, H, W) batch");
  if (y.size(1) != 3) return Status::InvalidArgument(turns + ", not an RGB image (3 channels)");
  if (y.size(0) != input.size(0) || y.size(2) != input.size(2) * scale || y.size(3) != input.size(3) * scale) {
    const std::string s = std::to_string(scale);
    return Status::InvalidArgument(turns + ", not " + s + "x (--model-scale " + s + ")");
  }
  if (!y.is_floating_point()) {
    return Status::InvalidArgument(turns + " of " + std::string(c10::toString(y.scalar_type())) +
                                   ", not floating point");
  }
  return Status::Ok();
}

// The probe of the header: checks the 16×16 run, then returns the smallest input multiple that works.
Result<int> Probe(torch::jit::Module& module, const std::string& path, int scale, const c10::TensorOptions& options) {
  const std::string what = "torchscript model " + path + " ";
  const Status first = RunProbe(module, ProbeInput(kProbeSize, kProbeSize, options), scale);
  if (!first.ok()) return Status(first.code(), what + first.message());
  Status last;
  for (int m = 1; m <= kMaxMultiple; m *= 2) {
    last = RunProbe(module, ProbeInput(kProbeSize + m, kProbeSize + 2 * static_cast<int64_t>(m), options), scale);
    if (last.ok()) return m;
    if (last.code() == StatusCode::kResourceExhausted) return Status(last.code(), what + last.message());
  }
  return Status::InvalidArgument(what +
                                 "runs on a 1x3x16x16 input but on no other size tried (multiples of 1, 2, "
                                 "4, 8 and 16; a model traced with its sizes fixed does that): it " +
                                 last.message());
}

}  // namespace

TorchscriptModel::TorchscriptModel(std::unique_ptr<Network> network, const std::string& path, int scale, int multiple,
                                   c10::Device device, c10::ScalarType dtype)
    : network_(std::move(network)),
      name_("torchscript:" + std::filesystem::path(path).filename().string()),
      scales_{scale},
      multiple_(multiple),
      device_(device),
      dtype_(dtype) {}

TorchscriptModel::~TorchscriptModel() = default;

Result<std::unique_ptr<TorchscriptModel>> TorchscriptModel::Create(const std::string& path, int scale,
                                                                   c10::Device device, c10::ScalarType dtype) {
  if (scale < 1 || scale > 16) {
    return Status::InvalidArgument("the scale of torchscript model " + path + " must be within 1..16, got " +
                                   std::to_string(scale));
  }
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16) {
    return Status::InvalidArgument("torchscript models run in float32, float16 or bfloat16, not " +
                                   std::string(c10::toString(dtype)));
  }
  auto network = std::make_unique<Network>();
  TSDSR_ASSIGN_OR_RETURN(network->module, LoadModule(path, device));
  try {
    network->module.eval();
    ConvertFloatingState(network->module, dtype);
  } catch (const c10::Error& e) {
    return StatusFromTorchError(
        e, "torchscript model " + path + ": converting it to " + std::string(c10::toString(dtype)) + " failed");
  }
  const c10::TensorOptions options = c10::TensorOptions().dtype(dtype).device(device);
  TSDSR_ASSIGN_OR_RETURN(const int multiple, Probe(network->module, path, scale, options));
  return std::unique_ptr<TorchscriptModel>(
      new TorchscriptModel(std::move(network), path, scale, multiple, device, dtype));
}

at::Tensor TorchscriptModel::Forward(const at::Tensor& batch, int scale) {
  TORCH_CHECK(scale == scales_.front(), name_, " upscales by ", scales_.front(), " only, not ", scale);
  TORCH_CHECK(batch.dim() == 4 && batch.size(1) == 3, name_, " takes a batch shaped (N, 3, h, w), got ", batch.sizes());
  const int64_t height = batch.size(2);
  const int64_t width = batch.size(3);
  at::Tensor x = batch.to(device_, dtype_);
  const int64_t pad_bottom = RoundUp(height, multiple_) - height;
  const int64_t pad_right = RoundUp(width, multiple_) - width;
  if (pad_bottom > 0 || pad_right > 0) x = at::replication_pad2d(x, {0, pad_right, 0, pad_bottom});
  c10::IValue out;
  try {
    out = network_->module.forward({x});
  } catch (const std::exception& e) {
    // One line instead of the interpreter's traceback; out of memory stays recognisable (TorchUpscaler retries).
    TORCH_CHECK_WITH(OutOfMemoryError, !IsOutOfMemory(e), name_, " ran out of memory on ", x.sizes(), ": ",
                     ErrorSummary(e));
    TORCH_CHECK(false, name_, " failed on ", x.sizes(), ": ", ErrorSummary(e));
  }
  TORCH_CHECK(out.isTensor(), name_, " returned a ", out.tagKind(), ", not one tensor");
  at::Tensor y = out.toTensor();
  TORCH_CHECK(y.dim() == 4 && y.size(2) == x.size(2) * scale && y.size(3) == x.size(3) * scale, name_, " turned ",
              x.sizes(), " into ", y.sizes(), ", not ", scale, "x");
  if (pad_bottom > 0 || pad_right > 0) y = y.narrow(2, 0, height * scale).narrow(3, 0, width * scale);
  return y.to(dtype_);
}

}  // namespace tsdsr::model

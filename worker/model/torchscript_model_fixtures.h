// Tiny TorchScript models for the tests of TorchscriptModel, built in C++ (torch::jit::Module + define()) and
// saved as torch.jit.save would, so the tests need no Python. Header-only, included only by tests and by the
// end-to-end tests' model writer (tests/torchscript_model_writer.cc). Includes <torch/script.h> (slow to compile).
#pragma once

#include <string>

#include <torch/script.h>

namespace tsdsr::model::testing {

// NearestConvModel's depthwise 3×3 kernel, (3, 1, 3, 3): [[0, 1, 0], [1, 4, 1], [0, 1, 0]] / 8 times a gain of
// 1, 0.5 and 0.25 for R, G and B, so a swap of channels shows.
inline at::Tensor NearestConvWeight() {
  const at::Tensor kernel = torch::tensor({0.f, 1.f, 0.f, 1.f, 4.f, 1.f, 0.f, 1.f, 0.f}).reshape({1, 1, 3, 3}) / 8;
  return torch::cat({kernel * 1.0, kernel * 0.5, kernel * 0.25}, 0);
}
// NearestConvModel's bias per R, G, B channel: 30.3, 20.3 and 10.3 grey levels. With the kernel above, an 8-bit
// image's output lies at least 0.0125 grey levels from a rounding tie (x.5), so that implementations that differ
// by float rounding still agree exactly once rounded to 8 bits.
inline at::Tensor NearestConvBias() { return torch::tensor({30.3f, 20.3f, 10.3f}) / 255; }

// What NearestConvModel(scale) computes, with ATen ops: nearest ×scale, then the depthwise 3×3 convolution above
// with zero padding and the bias. `x` is (N, 3, h, w).
inline at::Tensor NearestConvReference(const at::Tensor& x, int scale) {
  const at::Tensor up = at::upsample_nearest2d(x, {x.size(2) * scale, x.size(3) * scale});
  return at::conv2d(up, NearestConvWeight().to(x.dtype()), NearestConvBias().to(x.dtype()), 1, 1, 1, 3);
}

// forward(x) = NearestConvReference(x, scale), weights as parameters; any input size. `dtype` is that of the
// saved weights (a model saved in float64 must still run in float32 once loaded).
inline torch::jit::Module NearestConvModel(int scale, c10::ScalarType dtype = at::kFloat) {
  torch::jit::Module m("NearestConv");
  m.register_parameter("weight", NearestConvWeight().to(dtype), false);
  m.register_parameter("bias", NearestConvBias().to(dtype), false);
  m.register_attribute("scale", c10::IntType::get(), scale);
  m.define(R"(
def forward(self, x):
    y = torch.upsample_nearest2d(x, None, [float(self.scale), float(self.scale)])
    return torch.conv2d(y, self.weight, self.bias, [1, 1], [1, 1], [1, 1], 3)
)");
  return m;
}

// PixelShuffleModel's 1×1 convolution, 3 → 3·scale² channels: fixed weights in [-0.5, 0.5] without a pattern.
inline at::Tensor PixelShuffleWeight(int scale) {
  return torch::arange(9 * scale * scale, at::kFloat).mul(2.71).sin().mul(0.5).reshape({3 * scale * scale, 3, 1, 1});
}

// forward(x) = pixel_shuffle(conv1×1(x, PixelShuffleWeight(scale), bias 0.5), scale): a sub-pixel ×scale.
inline torch::jit::Module PixelShuffleModel(int scale) {
  torch::jit::Module m("PixelShuffle");
  m.register_parameter("weight", PixelShuffleWeight(scale), false);
  m.register_buffer("bias", torch::full({3 * scale * scale}, 0.5));
  m.register_attribute("scale", c10::IntType::get(), scale);
  m.define(R"(
def forward(self, x):
    return torch.pixel_shuffle(torch.conv2d(x, self.weight, self.bias), self.scale)
)");
  return m;
}

// forward(x) = nearest ×2 of x, but only for heights and widths that are multiples of `multiple`: it passes x
// through pixel_unshuffle(multiple) and back, as Real-ESRGAN ×2 (2) and ×1 (4) do; other sizes throw.
inline torch::jit::Module MultipleOfModel(int multiple) {
  torch::jit::Module m("MultipleOf");
  m.register_attribute("multiple", c10::IntType::get(), multiple);
  m.define(R"(
def forward(self, x):
    y = torch.pixel_shuffle(torch.pixel_unshuffle(x, self.multiple), self.multiple)
    return torch.upsample_nearest2d(y, None, [2.0, 2.0])
)");
  return m;
}

// Models the probe must refuse, each with `forward` as given.
inline torch::jit::Module ModelWithForward(const std::string& body) {
  torch::jit::Module m("Broken");
  m.define("def forward(self, x):\n" + body);
  return m;
}
// Returns one channel (the mean of R, G, B) at ×2.
inline torch::jit::Module OneChannelModel() {
  return ModelWithForward("    return torch.upsample_nearest2d(x.mean(1, keepdim=True), None, [2.0, 2.0])\n");
}
// Returns a tuple of two ×2 images.
inline torch::jit::Module TupleModel() {
  return ModelWithForward("    y = torch.upsample_nearest2d(x, None, [2.0, 2.0])\n    return (y, y)\n");
}
// Raises "this model always fails".
inline torch::jit::Module ThrowingModel() {
  return ModelWithForward("    assert x.size(1) != 3, 'this model always fails'\n    return x\n");
}
// Works on a 16×16 input only (a shape fixed when it was "traced").
inline torch::jit::Module FixedSizeModel() {
  return ModelWithForward("    return torch.upsample_nearest2d(x, None, [2.0, 2.0]).reshape([1, 3, 32, 32])\n");
}
// No forward method at all.
inline torch::jit::Module NoForwardModel() {
  torch::jit::Module m("NoForward");
  m.define("def upscale(self, x):\n    return x\n");
  return m;
}

}  // namespace tsdsr::model::testing

#include "worker/model/color_fix.h"

#include <string>
#include <utility>

#include <ATen/ops/arange.h>
#include <c10/util/Exception.h>

namespace tsdsr::model {
namespace {

void CheckImage(const at::Tensor& image, const char* what) {
  TORCH_CHECK(image.dim() == 4, "colour fix: ", what, " must be (N, C, H, W), got ", image.sizes());
  TORCH_CHECK(at::isFloatingType(image.scalar_type()), "colour fix: ", what, " must be floating point, got ",
              image.scalar_type());
}

// Half and bfloat16 are computed in float32: the low band is a long chain of averages.
at::Tensor ComputeCopy(const at::Tensor& image) {
  const c10::ScalarType type = image.scalar_type();
  return type == at::kHalf || type == at::kBFloat16 ? image.to(at::kFloat) : image;
}

// Indices i − d and i + d along an axis of `length`, clamped to the axis: replicate padding by gathering.
at::Tensor Neighbours(int64_t length, int64_t offset, const at::Tensor& like) {
  const at::Tensor index = at::arange(length, like.options().dtype(at::kLong));
  return index.add(offset).clamp_(0, length - 1);
}

// [1, 2, 1] / 4 along `axis` with taps `dilation` apart, edges replicated.
at::Tensor Blur1d(const at::Tensor& x, int64_t axis, int64_t dilation) {
  const int64_t length = x.size(axis);
  const at::Tensor before = x.index_select(axis, Neighbours(length, -dilation, x));
  const at::Tensor after = x.index_select(axis, Neighbours(length, dilation, x));
  return before.add(after).add_(x, 2.0).mul_(0.25);
}

// The separable form of the 3×3 kernel: replicate padding then a 2-D kernel equals replicate padding per axis.
at::Tensor BlurUnchecked(const at::Tensor& x, int64_t dilation) { return Blur1d(Blur1d(x, 3, dilation), 2, dilation); }

at::Tensor LowUnchecked(at::Tensor x, int levels) {
  for (int level = 0; level < levels; ++level) x = BlurUnchecked(x, int64_t{1} << level);
  return x;
}

}  // namespace

Result<ColorFix> ParseColorFix(std::string_view name) {
  for (ColorFix fix : {ColorFix::kNone, ColorFix::kWavelet, ColorFix::kAdain}) {
    if (name == ColorFixName(fix)) return fix;
  }
  return Status::InvalidArgument("colour fix must be none, wavelet or adain, got '" + std::string(name) + "'");
}

std::string_view ColorFixName(ColorFix fix) {
  switch (fix) {
    case ColorFix::kWavelet:
      return "wavelet";
    case ColorFix::kAdain:
      return "adain";
    case ColorFix::kNone:
      break;
  }
  return "none";
}

at::Tensor WaveletBlur(const at::Tensor& image, int64_t dilation) {
  CheckImage(image, "image");
  TORCH_CHECK(dilation >= 1, "wavelet blur: dilation must be at least 1, got ", dilation);
  return BlurUnchecked(ComputeCopy(image), dilation).to(image.scalar_type());
}

at::Tensor WaveletLowFrequency(const at::Tensor& image, int levels) {
  CheckImage(image, "image");
  TORCH_CHECK(levels >= 1 && levels <= 16, "wavelet: levels must be in 1..16, got ", levels);
  return LowUnchecked(ComputeCopy(image), levels).to(image.scalar_type());
}

at::Tensor WaveletColorFix(const at::Tensor& content, const at::Tensor& reference, int levels) {
  CheckImage(content, "content");
  CheckImage(reference, "reference");
  TORCH_CHECK(content.sizes() == reference.sizes(), "wavelet colour fix: content ", content.sizes(), " and reference ",
              reference.sizes(), " differ in shape");
  TORCH_CHECK(levels >= 1 && levels <= 16, "wavelet: levels must be in 1..16, got ", levels);
  const at::Tensor x = ComputeCopy(content);
  const at::Tensor shift = LowUnchecked(ComputeCopy(reference).to(x.device()).sub(x), levels);
  return x.add(shift).to(content.scalar_type());
}

at::Tensor AdainColorFix(const at::Tensor& content, const at::Tensor& reference) {
  CheckImage(content, "content");
  CheckImage(reference, "reference");
  TORCH_CHECK(content.size(0) == reference.size(0) && content.size(1) == reference.size(1),
              "adain colour fix: content ", content.sizes(), " and reference ", reference.sizes(),
              " differ in images or channels");
  constexpr double kEpsilon = 1e-5;  // added to the variance, as TSD-SR's calc_mean_std
  auto mean_std = [](const at::Tensor& image) {
    const at::Tensor flat = ComputeCopy(image).flatten(2);
    const bool unbiased = flat.size(2) > 1;  // one pixel: variance 0 rather than 0/0
    return std::make_pair(flat.mean({2}, true), flat.var({2}, unbiased, true).add_(kEpsilon).sqrt_());
  };
  const auto [content_mean, content_std] = mean_std(content);
  const auto [reference_mean, reference_std] = mean_std(reference);
  const c10::Device device = content.device();
  const at::Tensor scale = reference_std.to(device).div(content_std);
  const at::Tensor flat = ComputeCopy(content).flatten(2);
  const at::Tensor fixed = flat.sub(content_mean).mul_(scale).add_(reference_mean.to(device));
  return fixed.reshape(content.sizes()).to(content.scalar_type());
}

at::Tensor ApplyColorFix(ColorFix fix, const at::Tensor& content, const at::Tensor& reference) {
  switch (fix) {
    case ColorFix::kWavelet:
      return WaveletColorFix(content, reference);
    case ColorFix::kAdain:
      return AdainColorFix(content, reference);
    case ColorFix::kNone:
      break;
  }
  return content;
}

}  // namespace tsdsr::model

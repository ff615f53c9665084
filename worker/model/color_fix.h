// Colour fixes (--color-fix): anchor a network's colours and brightness to a reference, the bicubic upscale of the
// same input, as TSD-SR does after its decoder. A network's small bias (e.g. from quantized weights) shows most on
// flat and dark areas; keeping only its fine detail and taking the coarse part from the reference removes it.
// - wavelet: 5-level à-trous decomposition with the [1,2,1]⊗[1,2,1]/16 kernel at dilation 2^i for level i, edges
//   replicated (TSD-SR's utils/wavelet_color_fix.py): result = content's high frequencies + reference's low one.
// - adain: each channel of content shifted and scaled to the reference's mean and standard deviation.
// Works on (N, C, H, W) floating-point tensors on any device; half-precision inputs are computed in float32 and
// returned in their own dtype. Functions throw c10::Error for bad shapes (callers turn it into a Status).
#pragma once

#include <string_view>

#include <ATen/core/Tensor.h>

#include "common/status.h"

namespace tsdsr::model {

enum class ColorFix { kNone, kWavelet, kAdain };

// "none", "wavelet" or "adain" (the --color-fix values) → ColorFix. InvalidArgument naming the values otherwise.
Result<ColorFix> ParseColorFix(std::string_view name);

// The flag value of `fix`: "none", "wavelet", "adain".
std::string_view ColorFixName(ColorFix fix);

// The number of decomposition levels TSD-SR uses: blurs at dilations 1, 2, 4, 8, 16.
inline constexpr int kWaveletLevels = 5;

// One à-trous level: `image` blurred with [1,2,1]⊗[1,2,1]/16 whose taps are `dilation` pixels apart, pixels
// beyond the edge taken from the nearest edge pixel (replicate padding). Same shape, dtype and device.
at::Tensor WaveletBlur(const at::Tensor& image, int64_t dilation);

// The low-frequency band after `levels` à-trous levels (WaveletBlur at dilations 1, 2, …, 2^(levels-1), each on
// the previous result). The high-frequency band is image − WaveletLowFrequency(image). levels ≥ 1.
at::Tensor WaveletLowFrequency(const at::Tensor& image, int levels = kWaveletLevels);

// content − WaveletLowFrequency(content) + WaveletLowFrequency(reference), computed as
// content + WaveletLowFrequency(reference − content) (the transform is linear). Same shapes required.
at::Tensor WaveletColorFix(const at::Tensor& content, const at::Tensor& reference, int levels = kWaveletLevels);

// Per image and channel: (content − mean(content)) / std(content) · std(reference) + mean(reference), with
// std = sqrt(unbiased variance + 1e-5) as TSD-SR's calc_mean_std. Same N and C required; H, W may differ.
at::Tensor AdainColorFix(const at::Tensor& content, const at::Tensor& reference);

// Dispatches on `fix`; kNone returns `content` itself.
at::Tensor ApplyColorFix(ColorFix fix, const at::Tensor& content, const at::Tensor& reference);

}  // namespace tsdsr::model

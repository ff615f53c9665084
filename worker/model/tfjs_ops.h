// Tensor operations with TensorFlow's semantics on NCHW tensors: what a Keras layer computes on NHWC, written
// for the channels-first layout the model library uses. Pure functions; throw c10::Error on bad arguments.
#pragma once

#include <array>
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace tsdsr::model {

// tf.nn.depth_to_space(x, block, "NHWC") on x transposed to NCHW: (N, C·b², H, W) → (N, C, H·b, W·b) with
// out[n, c, y·b + i, x·b + j] = in[n, (i·b + j)·C + c, y, x]. TF groups the input channels as (i, j, c);
// torch::pixel_shuffle groups them as (c, i, j), so the two differ whenever C > 1. A channels-last input gives a
// channels-last output (one copy either way).
at::Tensor DepthToSpace(const at::Tensor& x, int64_t block);

// Keras UpSampling2D(size=(sy, sx), interpolation="nearest"): each pixel becomes an sy × sx block.
at::Tensor UpsampleNearest(const at::Tensor& x, int64_t sy, int64_t sx);

// Padding (left, right, top, bottom) that TF's padding="same" adds for a stride-1 convolution with this
// kernel and dilation: (k − 1)·d in all, the odd pixel after (right, bottom).
std::array<int64_t, 4> SamePadding(int64_t kernel_h, int64_t kernel_w, int64_t dilation_h, int64_t dilation_w);

// A Keras Conv2D kernel (kh, kw, in, out) as a torch conv2d weight (out, in, kh, kw), contiguous.
at::Tensor KernelToOihw(const at::Tensor& hwio);

// Folds nearest upsampling by `block` into the convolution that follows it: for a torch conv2d weight `oihw`
// (out, in, kh, kw) with odd kh and kw, run stride 1, dilation 1 and zero "same" padding on x upsampled by
// `block`, returns the weight (block²·out, in, 2·⌈rh/block⌉ + 1, 2·⌈rw/block⌉ + 1), r = (k − 1) / 2, of the
// convolution at x's size (same padding) whose output, through DepthToSpace(·, block), is the same image. Its
// output channel (i·block + j)·out + c holds output pixel (y·block + i, x·block + j) of channel c. Taps that meet
// the same low-resolution pixel are summed in double. Same dtype and device as `oihw`. Throws c10::Error for an
// even kernel or block < 1.
at::Tensor UpsampledConvKernel(const at::Tensor& oihw, int64_t block);

// The NCHW dimension of an NHWC axis of a rank-4 tensor (−1 and 3 → 1, 1 → 2, 2 → 3, 0 → 0).
// Throws c10::Error outside −4..3.
int64_t NchwAxis(int64_t nhwc_axis);

}  // namespace tsdsr::model

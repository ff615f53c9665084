// Multi-head scaled dot-product attention for the SD3 transformer. Built against LibTorch 2.x it runs
// at::scaled_dot_product_attention (flash / memory-efficient kernels on CUDA); against 1.x (Debian's 1.13) it runs
// the plain softmax(Q·Kᵀ/√d)·V. This file's .cc is the only one that looks at the LibTorch version.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace tsdsr::model::sd3 {

// Attention of queries `q` (N, Sq, heads·d) over keys `k` and values `v` (N, Skv, heads·d), all of one dtype on
// one device, split into `heads` heads of d channels, no mask, scale 1/√d; returns (N, Sq, heads·d) with the
// heads merged back in order. Throws c10::Error for shapes that do not fit.
at::Tensor MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads);

// The plain path on per-head tensors, (…, Sq, d) × (…, Skv, d) → (…, Sq, d): softmax(q·kᵀ/√d)·v, the softmax in
// float32 when the inputs are float16/bfloat16. Exposed so tests can compare it with the fused path.
at::Tensor PlainAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// Whether MultiHeadAttention uses at::scaled_dot_product_attention (LibTorch ≥ 2) rather than PlainAttention.
bool UsesFusedAttention();

}  // namespace tsdsr::model::sd3

#include "worker/model/sd3/sd3_attention.h"

#include <cmath>

#include <ATen/ops/matmul.h>
#include <ATen/ops/softmax.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#include <ATen/ops/scaled_dot_product_attention.h>
#endif

namespace tsdsr::model::sd3 {

at::Tensor PlainAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul(scale);
  const bool reduced = q.scalar_type() == at::kHalf || q.scalar_type() == at::kBFloat16;
  const at::Tensor weights =
      reduced ? at::softmax(scores, -1, at::kFloat).to(q.scalar_type()) : at::softmax(scores, -1);
  return at::matmul(weights, v);
}

bool UsesFusedAttention() { return TORCH_VERSION_MAJOR >= 2; }

at::Tensor MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads) {
  TORCH_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3, "attention takes (N, S, C) tensors, got ", q.sizes(), ", ",
              k.sizes(), ", ", v.sizes());
  TORCH_CHECK(k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(2) == k.size(2),
              "attention query, key and value do not fit: ", q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  TORCH_CHECK(heads >= 1 && q.size(2) % heads == 0, q.size(2), " channels do not split into ", heads, " heads");
  const int64_t batch = q.size(0);
  const int64_t channels = q.size(2);
  const int64_t head_dim = channels / heads;
  // (N, S, heads·d) → (N, heads, S, d)
  const auto split = [&](const at::Tensor& x) { return x.reshape({batch, -1, heads, head_dim}).transpose(1, 2); };
#if TORCH_VERSION_MAJOR >= 2
  const at::Tensor out = at::scaled_dot_product_attention(split(q), split(k), split(v));
#else
  const at::Tensor out = PlainAttention(split(q), split(k), split(v));
#endif
  return out.transpose(1, 2).reshape({batch, -1, channels});
}

}  // namespace tsdsr::model::sd3

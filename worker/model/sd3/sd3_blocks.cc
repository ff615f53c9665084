#include "worker/model/sd3/sd3_blocks.h"

#include <vector>

#include <ATen/ops/cat.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/layer_norm.h>
#include <c10/util/Exception.h>

#include "worker/model/sd3/sd3_attention.h"

namespace tsdsr::model::sd3 {
namespace {

constexpr double kNormEps = 1e-6;

// The layers in `parts` stacked into one (their outputs side by side), or undefined weights when one of them
// could not be taken (the taker has recorded why).
Linear Fuse(const std::vector<Linear>& parts) {
  std::vector<at::Tensor> weights;
  std::vector<at::Tensor> biases;
  for (const Linear& part : parts) {
    if (!part.weight.defined() || !part.bias.defined()) return {};
    weights.push_back(part.weight);
    biases.push_back(part.bias);
  }
  return {at::cat(weights, 0), at::cat(biases, 0)};
}

// diffusers' FeedForward with activation "gelu-approximate": Linear → GELU(tanh) → Linear.
at::Tensor FeedForward(const Linear& in, const Linear& out, const at::Tensor& x) {
  return out(at::gelu(in(x), "tanh"));
}

// x + gate·y, the gate (N, C) broadcast over the tokens of y (N, S, C).
at::Tensor GatedAdd(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& y) {
  return x.add(gate.unsqueeze(1).mul(y));
}

}  // namespace

at::Tensor LayerNormNoAffine(const at::Tensor& x) { return at::layer_norm(x, {x.size(-1)}, {}, {}, kNormEps); }

at::Tensor Modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale) {
  return x.mul(scale.unsqueeze(1).add(1)).add(shift.unsqueeze(1));
}

at::Tensor AdaNormContinuous(const Linear& linear, const at::Tensor& x, const at::Tensor& silu_temb) {
  const std::vector<at::Tensor> parts = linear(silu_temb).chunk(2, 1);  // scale, shift
  return Modulate(LayerNormNoAffine(x), parts[1], parts[0]);
}

JointBlock JointBlock::Take(WeightTaker& taker, const std::string& prefix, int64_t dim, int64_t heads,
                            bool context_pre_only) {
  JointBlock block;
  block.context_pre_only_ = context_pre_only;
  block.heads_ = heads;
  block.norm1_ = taker.TakeLinear(prefix + ".norm1.linear", 6 * dim, dim);
  block.norm1_context_ = taker.TakeLinear(prefix + ".norm1_context.linear", (context_pre_only ? 2 : 6) * dim, dim);
  const std::string attn = prefix + ".attn.";
  block.qkv_ = Fuse({taker.TakeLinear(attn + "to_q", dim, dim), taker.TakeLinear(attn + "to_k", dim, dim),
                     taker.TakeLinear(attn + "to_v", dim, dim)});
  // The last block's context queries only produce context outputs, which are discarded: add_q_proj is checked
  // but not kept.
  const Linear context_q = taker.TakeLinear(attn + "add_q_proj", dim, dim);
  const Linear context_k = taker.TakeLinear(attn + "add_k_proj", dim, dim);
  const Linear context_v = taker.TakeLinear(attn + "add_v_proj", dim, dim);
  block.context_qkv_ = context_pre_only ? Fuse({context_k, context_v}) : Fuse({context_q, context_k, context_v});
  block.out_ = taker.TakeLinear(attn + "to_out.0", dim, dim);
  block.ff_in_ = taker.TakeLinear(prefix + ".ff.net.0.proj", 4 * dim, dim);
  block.ff_out_ = taker.TakeLinear(prefix + ".ff.net.2", dim, 4 * dim);
  if (!context_pre_only) {
    block.context_out_ = taker.TakeLinear(attn + "to_add_out", dim, dim);
    block.context_ff_in_ = taker.TakeLinear(prefix + ".ff_context.net.0.proj", 4 * dim, dim);
    block.context_ff_out_ = taker.TakeLinear(prefix + ".ff_context.net.2", dim, 4 * dim);
  }
  return block;
}

std::pair<at::Tensor, at::Tensor> JointBlock::Forward(const at::Tensor& x, const at::Tensor& context,
                                                      const at::Tensor& silu_temb) const {
  TORCH_CHECK(x.dim() == 3 && context.dim() == 3 && x.size(0) == context.size(0) && x.size(2) == context.size(2),
              "joint block: image tokens ", x.sizes(), " and context tokens ", context.sizes(), " do not fit");
  const int64_t tokens = x.size(1);
  // shift, scale, gate (attention); shift, scale, gate (MLP)
  const std::vector<at::Tensor> mod = norm1_(silu_temb).chunk(6, 1);
  at::Tensor context_modulation;
  at::Tensor context_normed;
  if (context_pre_only_) {
    context_normed = AdaNormContinuous(norm1_context_, context, silu_temb);
  } else {
    context_modulation = norm1_context_(silu_temb);
    const std::vector<at::Tensor> c = context_modulation.chunk(6, 1);
    context_normed = Modulate(LayerNormNoAffine(context), c[0], c[1]);
  }

  const std::vector<at::Tensor> qkv = qkv_(Modulate(LayerNormNoAffine(x), mod[0], mod[1])).chunk(3, -1);
  const std::vector<at::Tensor> cqkv = context_qkv_(context_normed).chunk(context_pre_only_ ? 2 : 3, -1);
  const size_t ck = context_pre_only_ ? 0 : 1;  // index of the context keys in cqkv
  const at::Tensor q = context_pre_only_ ? qkv[0] : at::cat({qkv[0], cqkv[0]}, 1);
  const at::Tensor attended =
      MultiHeadAttention(q, at::cat({qkv[1], cqkv[ck]}, 1), at::cat({qkv[2], cqkv[ck + 1]}, 1), heads_);

  at::Tensor out = GatedAdd(x, mod[2], out_(attended.narrow(1, 0, tokens)));
  out = GatedAdd(out, mod[5], FeedForward(ff_in_, ff_out_, Modulate(LayerNormNoAffine(out), mod[3], mod[4])));
  if (context_pre_only_) return {out, at::Tensor()};
  return {out, UpdateContext(context, attended.narrow(1, tokens, context.size(1)), context_modulation)};
}

at::Tensor JointBlock::UpdateContext(const at::Tensor& context, const at::Tensor& attended,
                                     const at::Tensor& modulation) const {
  const std::vector<at::Tensor> c = modulation.chunk(6, 1);
  const at::Tensor updated = GatedAdd(context, c[2], context_out_(attended));
  return GatedAdd(updated, c[5],
                  FeedForward(context_ff_in_, context_ff_out_, Modulate(LayerNormNoAffine(updated), c[3], c[4])));
}

}  // namespace tsdsr::model::sd3

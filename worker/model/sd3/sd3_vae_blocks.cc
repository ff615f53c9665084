#include "worker/model/sd3/sd3_vae_blocks.h"

#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/upsample_nearest2d.h>

#include "worker/model/sd3/sd3_attention.h"

namespace tsdsr::model::sd3 {
namespace {

constexpr double kNormEps = 1e-6;

}  // namespace

at::Tensor VaeConv::operator()(const at::Tensor& x) const {
  return at::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
}

VaeConv VaeConv::Take(WeightTaker& taker, const std::string& prefix, int64_t out, int64_t in, int64_t kernel,
                      int64_t stride, int64_t padding) {
  VaeConv conv;
  conv.weight = taker.Take(prefix + ".weight", {out, in, kernel, kernel});
  conv.bias = taker.Take(prefix + ".bias", {out});
  conv.stride = stride;
  conv.padding = padding;
  return conv;
}

at::Tensor VaeGroupNorm::operator()(const at::Tensor& x) const {
  return at::group_norm(x, groups, weight, bias, kNormEps, /*cudnn_enabled=*/true);
}

VaeGroupNorm VaeGroupNorm::Take(WeightTaker& taker, const std::string& prefix, int64_t channels, int64_t groups) {
  VaeGroupNorm norm;
  norm.weight = taker.Take(prefix + ".weight", {channels});
  norm.bias = taker.Take(prefix + ".bias", {channels});
  norm.groups = groups;
  return norm;
}

at::Tensor VaeResnet::operator()(const at::Tensor& x) const {
  at::Tensor h = conv1(at::silu(norm1(x)));
  h = conv2(at::silu(norm2(h)));
  return (shortcut ? (*shortcut)(x) : x).add(h);
}

VaeResnet VaeResnet::Take(WeightTaker& taker, const std::string& prefix, int64_t in, int64_t out, int64_t groups) {
  VaeResnet r;
  r.norm1 = VaeGroupNorm::Take(taker, prefix + ".norm1", in, groups);
  r.conv1 = VaeConv::Take(taker, prefix + ".conv1", out, in, 3, 1, 1);
  r.norm2 = VaeGroupNorm::Take(taker, prefix + ".norm2", out, groups);
  r.conv2 = VaeConv::Take(taker, prefix + ".conv2", out, out, 3, 1, 1);
  if (in != out) r.shortcut = VaeConv::Take(taker, prefix + ".conv_shortcut", out, in, 1, 1, 0);
  return r;
}

at::Tensor VaeAttention::operator()(const at::Tensor& x) const {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const at::Tensor tokens = norm(x).view({n, c, h * w}).transpose(1, 2);  // (N, HW, C)
  const at::Tensor attended = MultiHeadAttention(to_q(tokens), to_k(tokens), to_v(tokens), /*heads=*/1);
  return to_out(attended).transpose(1, 2).reshape({n, c, h, w}).add(x);
}

VaeAttention VaeAttention::Take(WeightTaker& taker, const std::string& prefix, int64_t channels, int64_t groups) {
  VaeAttention a;
  a.norm = VaeGroupNorm::Take(taker, prefix + ".group_norm", channels, groups);
  a.to_q = taker.TakeLinear(prefix + ".to_q", channels, channels);
  a.to_k = taker.TakeLinear(prefix + ".to_k", channels, channels);
  a.to_v = taker.TakeLinear(prefix + ".to_v", channels, channels);
  a.to_out = taker.TakeLinear(prefix + ".to_out.0", channels, channels);
  return a;
}

at::Tensor VaeMidBlock::operator()(const at::Tensor& x) const {
  at::Tensor h = first(x);
  if (attention) h = (*attention)(h);
  return second(h);
}

VaeMidBlock VaeMidBlock::Take(WeightTaker& taker, const std::string& prefix, int64_t channels, int64_t groups,
                              bool with_attention) {
  VaeMidBlock m;
  m.first = VaeResnet::Take(taker, prefix + ".resnets.0", channels, channels, groups);
  if (with_attention) m.attention = VaeAttention::Take(taker, prefix + ".attentions.0", channels, groups);
  m.second = VaeResnet::Take(taker, prefix + ".resnets.1", channels, channels, groups);
  return m;
}

at::Tensor VaeLevel::operator()(const at::Tensor& x) const {
  at::Tensor h = x;
  for (const VaeResnet& resnet : resnets) h = resnet(h);
  if (downsample) h = (*downsample)(at::constant_pad_nd(h, {0, 1, 0, 1}, 0));  // Downsample2D's asymmetric pad
  if (upsample) h = (*upsample)(at::upsample_nearest2d(h, {h.size(2) * 2, h.size(3) * 2}));
  return h;
}

}  // namespace tsdsr::model::sd3

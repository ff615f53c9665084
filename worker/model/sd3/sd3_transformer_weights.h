// WeightTaker: takes a network's named weights out of a TensorMap one at a time, checking that each is there with
// the shape the network expects and converting it to the run's dtype and device, then refuses whatever no layer
// took. Errors name the key, so a wrong or truncated checkpoint says what is wrong with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "common/status.h"
#include "worker/model/sd3/safetensors.h"

namespace tsdsr::model::sd3 {

// A dense layer, y = x·Wᵀ + b, as torch.nn.Linear.
struct Linear {
  at::Tensor weight;  // (out, in)
  at::Tensor bias;    // (out)

  // Applies the layer to the last dimension of `x`. Throws c10::Error on a shape mismatch.
  at::Tensor operator()(const at::Tensor& x) const;
};

class WeightTaker {
 public:
  // Takes from `weights` (consumed) and converts what it takes to `options` (dtype and device). `what` names the
  // network in messages, e.g. "SD3 transformer".
  WeightTaker(TensorMap weights, const c10::TensorOptions& options, std::string what);

  // A taker that holds no checkpoint: Take makes each weight of its shape on `options`' device, drawn from
  // N(0, 0.02²) by that device's default generator (seed it with at::manual_seed for repeatable values);
  // TakeOptional takes nothing. For timing and memory measurements of real-size networks without their files.
  static WeightTaker Random(const c10::TensorOptions& options, std::string what);

  // Removes `key` and returns it converted (contiguous) when it is present, floating point and shaped `shape`.
  // Otherwise returns an undefined tensor and remembers an InvalidArgument naming the key (missing, not floating
  // point, or "has shape [a, b], expected [c, d]"); only the first error is kept (see Finish). Throws c10::Error
  // when the conversion fails (e.g. out of memory).
  at::Tensor Take(const std::string& key, const std::vector<int64_t>& shape);

  // As Take, but an absent key is no error: returns an undefined tensor.
  at::Tensor TakeOptional(const std::string& key, const std::vector<int64_t>& shape);

  // `prefix`.weight shaped (out, in) and `prefix`.bias shaped (out), as Take.
  Linear TakeLinear(const std::string& prefix, int64_t out, int64_t in);

  // OK when every Take found its weight and nothing is left over; otherwise the first error, or an InvalidArgument
  // listing the keys no layer took (unexpected weights mean another architecture or configuration).
  Status Finish() const;

 private:
  void Fail(const std::string& message);

  TensorMap weights_;
  bool random_ = false;
  c10::TensorOptions options_;
  std::string what_;
  Status first_error_;
};

// "[2, 3]": a shape for messages.
std::string ShapeString(at::IntArrayRef shape);

}  // namespace tsdsr::model::sd3

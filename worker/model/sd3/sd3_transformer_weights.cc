#include "worker/model/sd3/sd3_transformer_weights.h"

#include <utility>

#include <ATen/ops/empty.h>
#include <ATen/ops/linear.h>

namespace tsdsr::model::sd3 {

at::Tensor Linear::operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }

std::string ShapeString(at::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

WeightTaker::WeightTaker(TensorMap weights, const c10::TensorOptions& options, std::string what)
    : weights_(std::move(weights)), options_(options), what_(std::move(what)) {}

void WeightTaker::Fail(const std::string& message) {
  if (first_error_.ok()) first_error_ = Status::InvalidArgument(what_ + ": " + message);
}

WeightTaker WeightTaker::Random(const c10::TensorOptions& options, std::string what) {
  WeightTaker taker({}, options, std::move(what));
  taker.random_ = true;
  return taker;
}

at::Tensor WeightTaker::Take(const std::string& key, const std::vector<int64_t>& shape) {
  if (random_) return at::empty(shape, options_).normal_(0.0, 0.02);
  if (weights_.count(key) == 0) {
    Fail("weight '" + key + "' is missing (expected shape " + ShapeString(shape) + ")");
    return {};
  }
  return TakeOptional(key, shape);
}

at::Tensor WeightTaker::TakeOptional(const std::string& key, const std::vector<int64_t>& shape) {
  const auto found = weights_.find(key);
  if (found == weights_.end()) return {};
  at::Tensor tensor = std::move(found->second);
  weights_.erase(found);
  if (!tensor.defined() || !tensor.is_floating_point()) {
    Fail("weight '" + key + "' is not a floating-point tensor");
    return {};
  }
  if (tensor.sizes() != at::IntArrayRef(shape)) {
    Fail("weight '" + key + "' has shape " + ShapeString(tensor.sizes()) + ", expected " + ShapeString(shape));
    return {};
  }
  if (!first_error_.ok()) return {};  // the result is refused anyway: skip the conversion
  return tensor.to(options_).contiguous();
}

Linear WeightTaker::TakeLinear(const std::string& prefix, int64_t out, int64_t in) {
  Linear linear;
  linear.weight = Take(prefix + ".weight", {out, in});
  linear.bias = Take(prefix + ".bias", {out});
  return linear;
}

Status WeightTaker::Finish() const {
  if (!first_error_.ok()) return first_error_;
  if (weights_.empty()) return Status::Ok();
  std::string names;
  size_t listed = 0;
  for (const auto& entry : weights_) {
    if (listed == 5) break;
    const std::string shape = entry.second.defined() ? ShapeString(entry.second.sizes()) : "(undefined)";
    names += (listed++ > 0 ? ", '" : "'") + entry.first + "' " + shape;
  }
  if (weights_.size() > listed) names += " and " + std::to_string(weights_.size() - listed) + " more";
  return Status::InvalidArgument(what_ + ": " + std::to_string(weights_.size()) +
                                 " weight(s) belong to no layer of this configuration: " + names);
}

}  // namespace tsdsr::model::sd3

#include "worker/model/tile_context.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include "worker/model/tiler.h"

namespace tsdsr::model {
namespace {

at::Tensor Noise(int edge, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(3) * edge * edge);
  for (float& v : values) v = uniform(random);
  return at::from_blob(values.data(), {1, 3, edge, edge}, at::kFloat).clone();
}

// The context that `diff` (the corner's output pixels, (L·s, L·s), |whole − corner| over channels) implies.
int ContextOf(const at::Tensor& diff, int limit, int scale, double tolerance) {
  const auto d = diff.accessor<float, 2>();
  const int edge = limit * scale;
  int context = 0;
  for (int y = 0; y < edge; ++y) {
    for (int x = 0; x < edge; ++x) {
      if (d[y][x] <= tolerance) continue;
      // LR distance of the pixel's centre from the nearer cut edge (right or bottom).
      const double distance = (edge - std::max(x, y) - 0.5) / scale;
      context = std::max(context, static_cast<int>(std::floor(distance)) + 1);
    }
  }
  return context;
}

}  // namespace

Result<int> MeasureContext(TileModel& model, int scale, const ContextProbe& probe) {
  const int limit = probe.limit;
  try {
    c10::InferenceMode inference;
    const at::Tensor noise = Noise(2 * limit, probe.seed).to(model.device(), model.dtype());
    const at::Tensor whole = model.Forward(noise, scale).to(at::kCPU, at::kFloat);
    const at::Tensor corner_in = noise.narrow(2, 0, limit).narrow(3, 0, limit).contiguous();
    const at::Tensor corner = model.Forward(corner_in, scale).to(at::kCPU, at::kFloat);
    const int64_t edge = int64_t{limit} * scale;
    const at::Tensor diff = whole.narrow(2, 0, edge).narrow(3, 0, edge).sub(corner).abs().amax(1)[0].contiguous();
    const int context = ContextOf(diff, limit, scale, probe.tolerance);
    if (context >= limit) {
      return Status::FailedPrecondition(model.name() + " at x" + std::to_string(scale) + " depends on input more than " +
                                std::to_string(limit) + " pixels away");
    }
    return context;
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "measuring the context of " + model.name());
  }
}

}  // namespace tsdsr::model

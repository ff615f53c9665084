#include "worker/simulated_model.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include <c10/util/Exception.h>

namespace tsdsr::worker {

Result<std::unique_ptr<SimulatedModel>> SimulatedModel::Create(std::string_view argument) {
  std::int64_t millis = -1;
  const char* end = argument.data() + argument.size();
  auto [stop, error] = std::from_chars(argument.data(), end, millis);
  if (argument.empty() || error != std::errc() || stop != end || millis < 0 || millis > kMaxMillisPerTile) {
    return Status::InvalidArgument("simulated:MS takes whole milliseconds per tile from 0 to " +
                                   std::to_string(kMaxMillisPerTile) + ", got '" + std::string(argument) + "'");
  }
  return std::unique_ptr<SimulatedModel>(new SimulatedModel(millis));
}

at::Tensor SimulatedModel::Forward(const at::Tensor& batch, int scale) {
  TORCH_CHECK(std::find(scales_.begin(), scales_.end(), scale) != scales_.end(), name_, " upscales by 2 or 4, not ",
              scale);
  TORCH_CHECK(batch.dim() == 4, name_, " takes a batch shaped (N, C, h, w), got ", batch.sizes());
  // The whole batch is one simulated device call: a sleep, so the CPU stays free for everything else.
  std::this_thread::sleep_for(std::chrono::milliseconds(millis_per_tile_ * batch.size(0)));
  // (N, C, h, w) → (N, C, h, 1, w, 1) → broadcast to (N, C, h, s, w, s) → (N, C, h·s, w·s): each pixel
  // becomes an s×s block; reshape makes the one copy.
  const int64_t n = batch.size(0);
  const int64_t c = batch.size(1);
  const int64_t h = batch.size(2);
  const int64_t w = batch.size(3);
  return batch.to(c10::kCPU, c10::ScalarType::Float)
      .reshape({n, c, h, 1, w, 1})
      .expand({n, c, h, scale, w, scale})
      .reshape({n, c, h * scale, w * scale});
}

}  // namespace tsdsr::worker

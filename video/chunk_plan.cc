#include "video/chunk_plan.h"

#include <algorithm>
#include <cmath>

namespace tsdsr::video {

size_t KeyframeBefore(const VideoInfo& video, size_t index) {
  for (size_t i = std::min(index, video.frames.size() - 1) + 1; i-- > 0;) {
    if (video.frames[i].key) return i;
  }
  return 0;
}

namespace {

// How many chunks: about `chunk_seconds` each, a multiple of `workers`, none shorter than kMinChunkFrames.
size_t ChunkCount(const VideoInfo& video, double chunk_seconds, int workers) {
  const size_t n = video.frames.size();
  const double seconds = std::max(video.duration_s(), 1e-9);
  const auto per_round = static_cast<size_t>(std::max(workers, 1));
  size_t count = static_cast<size_t>(std::ceil(seconds / std::max(chunk_seconds, 1e-3)));
  count = (count + per_round - 1) / per_round * per_round;
  return std::clamp<size_t>(count, 1, std::max<size_t>(1, n / kMinChunkFrames));
}

}  // namespace

std::vector<ChunkRange> PlanChunks(const VideoInfo& video, double chunk_seconds, int workers) {
  const size_t n = video.frames.size();
  if (n == 0) return {};
  const size_t count = ChunkCount(video, chunk_seconds, workers);
  const double length = double(n) / double(count);
  const auto slack = static_cast<size_t>(length * 0.1);
  std::vector<size_t> starts = {0};
  for (size_t k = 1; k < count; ++k) {
    size_t cut = static_cast<size_t>(std::llround(length * double(k)));
    const size_t key = KeyframeBefore(video, cut + slack);
    if (key + slack >= cut && key > starts.back() + kMinChunkFrames / 2) cut = key;  // a keyframe close by
    if (cut <= starts.back() || cut >= n) continue;
    starts.push_back(cut);
  }
  std::vector<ChunkRange> chunks;
  for (size_t i = 0; i < starts.size(); ++i) {
    chunks.push_back({starts[i], (i + 1 < starts.size() ? starts[i + 1] : n) - 1});
  }
  return chunks;
}

}  // namespace tsdsr::video

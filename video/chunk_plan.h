// How a video is cut into chunks that workers make in parallel: frame ranges in presentation order of about
// `chunk_seconds`, as many per worker (so the last round keeps every worker busy), each of at least kMinChunkFrames,
// with the cuts moved onto a nearby keyframe where there is one (a chunk that starts on a keyframe decodes no frame
// twice). Pure functions.
#pragma once

#include <cstddef>
#include <vector>

#include "video/media_info.h"

namespace tsdsr::video {

inline constexpr size_t kMinChunkFrames = 8;

// Frames [first, last] of a video, inclusive, in presentation order.
struct ChunkRange {
  size_t first = 0;
  size_t last = 0;
  size_t frames() const { return last - first + 1; }
  bool operator==(const ChunkRange& o) const { return first == o.first && last == o.last; }
};

// Chunks covering every frame of `video` exactly once, in order. `chunk_seconds` > 0. With `workers` ≥ 2 the
// count is rounded up to a multiple of `workers` (10 s at 1 s over 4 workers: 12 chunks, 3 each, not 4+4+2), as
// far as kMinChunkFrames allows. Empty for a video without frames.
std::vector<ChunkRange> PlanChunks(const VideoInfo& video, double chunk_seconds, int workers);

// The index of the last keyframe at or before frame `index` (0 when none is marked).
size_t KeyframeBefore(const VideoInfo& video, size_t index);

}  // namespace tsdsr::video

// What a worker needs to make one chunk of a video: the source's video packets in decode order, from the keyframe
// at or before the chunk's first frame to the last packet decoded before any frame after the chunk, written as a
// QuickTime file (it takes nearly every codec, and counts time in the stream's own time base or an exact multiple
// of it: decode with FrameDecoder::Open(..., source time base) to get the source's timestamps back), or Matroska
// for a stream in milliseconds (a Matroska source, whose packets carry no decode timestamps). Packets only:
// nothing is decoded here, so the dispatcher can cut chunks without touching a pixel.
#pragma once

#include <string>

#include "common/status.h"
#include "video/chunk_plan.h"
#include "video/media_info.h"

namespace tsdsr::video {

// The chunk `range` of `video` (ProbeFile's) from the file `source`, as bytes. InvalidArgument when the file
// does not hold what `video` says (it changed since it was probed).
Result<std::string> ExtractChunk(const std::string& source, const VideoInfo& video, const ChunkRange& range);

}  // namespace tsdsr::video

// One video chunk from bytes to bytes: decode the frames of the chunk's range (with the source's timestamps),
// upscale each through the model, encode them as one closed segment with the video's shared parameters.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/protocol.h"
#include "worker/job_runner.h"
#include "worker/upscaler.h"

namespace tsdsr::worker {

// Runs the video chunk `job` (kind video_chunk) on `upscaler` (nullptr: not loaded, `load_error` says why) over
// `chunk` (the packets ExtractChunk made). Never throws; every failure is in the reply with its code:
// InvalidArgument for a chunk that does not decode to the `job.frames` frames it should, or frames over
// `max_pixels` once upscaled. `cancelled` is polled and `on_progress` gets (frames done, frames total) after
// each frame. The reply's image is the segment (video/mp4 or video/x-matroska).
JobReply RunVideoChunk(Upscaler* upscaler, const std::string& load_error, const proto::JobHeader& job,
                       std::string_view chunk, std::int64_t max_pixels, const std::function<bool()>& cancelled,
                       const std::function<void(int done, int total)>& on_progress);

}  // namespace tsdsr::worker

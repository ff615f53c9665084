// One job from bytes to bytes: decode the uploaded image, upscale it, encode the output (video chunks go to
// RunVideoChunk).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/protocol.h"
#include "common/time_text.h"
#include "worker/upscaler.h"

namespace tsdsr::worker {

struct JobReply {
  proto::ResultHeader header;  // status "ok" or the failure's code name, with `error`
  std::string image;           // encoded output when ok
};

// `reply` turned into the failure `status`: its code's name and message, no output.
JobReply FailedReply(JobReply reply, const Status& status);

// Runs `job` on `upscaler` (nullptr: the model failed to load, `load_error` says why). Never throws; every
// failure is reported in the reply with its status code. `cancelled` is polled and `on_progress` (may be empty)
// called with (tiles done, tiles total) between tile batches.
JobReply RunJob(Upscaler* upscaler, const std::string& load_error, const proto::JobHeader& job,
                std::string_view image, std::int64_t max_pixels, const std::function<bool()>& cancelled,
                const std::function<void(int done, int total)>& on_progress = {});

}  // namespace tsdsr::worker

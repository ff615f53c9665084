// The last step of a video job: the encoded segments joined in order by stream copy, with the source's other
// streams (audio, subtitles, ...) copied packet by packet where the container can hold them, into one file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tsdsr::video {

// What became of one stream of the source.
struct StreamFate {
  int source_index = 0;
  std::string type;    // "audio", "subtitle", ...
  std::string codec;   // e.g. "aac", "subrip"
  bool kept = false;   // copied into the output
  std::string reason;  // why not, when dropped
};

struct JoinReport {
  std::int64_t video_packets = 0;
  std::vector<StreamFate> streams;  // the source's streams other than the video that was replaced
};

// Writes `output` in `container` ("mp4" or "matroska"): the video of `segments` (files, in order; they must share
// codec parameters, as SegmentEncoder makes them) and the source's other streams that the container takes, by
// stream copy; the rest are dropped and named in the report. Video timestamps stay as the segments have them
// (the source's); decode timestamps are kept increasing across the joins. Errors name the file that failed.
Result<JoinReport> JoinSegments(const std::vector<std::string>& segments, const std::string& source,
                                const std::string& output, const std::string& container);

nlohmann::json JoinReportJson(const JoinReport& report);

}  // namespace tsdsr::video

// The last step of a video job: the encoded segments joined in order by stream copy, with the source's other
// streams (audio, subtitles, ...) copied packet by packet where the container can hold them (text subtitles it
// cannot hold converted to one it can: SRT into MP4 becomes mov_text), into one file.
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
  std::string type;          // "audio", "subtitle", ...
  std::string codec;         // e.g. "aac", "subrip"
  bool kept = false;         // in the output: copied, or converted when converted_to says so
  std::string converted_to;  // the codec it was converted to (e.g. "mov_text"); empty when copied or dropped
  std::string reason;        // why not, when dropped
};

struct JoinReport {
  std::int64_t video_packets = 0;
  std::vector<StreamFate> streams;  // the source's streams other than the video that was replaced
};

// Writes `output` in `container` ("mp4" or "matroska"): the video of `segments` (files, in order; they must share
// codec parameters, as SegmentEncoder makes them), with the source video's display matrix (rotation), and the
// source's other streams that the container takes, by stream copy; text subtitles it cannot take converted
// (SubtitleConverter); the rest are dropped and named in the report. Video timestamps stay as the segments have
// them (the source's); decode timestamps are kept increasing across the joins; converted cues keep their packets'
// times. Errors name the file that failed.
Result<JoinReport> JoinSegments(const std::vector<std::string>& segments, const std::string& source,
                                const std::string& output, const std::string& container);

nlohmann::json JoinReportJson(const JoinReport& report);

}  // namespace tsdsr::video

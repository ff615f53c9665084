// Whether an output video is what was asked of its source: every frame, in order, at the source's times (from
// the first frame; the whole file may start later, every stream alike), the size times the scale, the codec and
// pixel format asked, the source's rotation (display matrix), and audio packets identical to the source's, in
// sync with the video as in the source. Other streams (subtitles, converted or copied) are not held against the
// source. The figures go into the job's status; any miss fails the job instead of handing out a wrong file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "video/media_info.h"

namespace tsdsr::video {

struct OutputExpectation {
  int scale = 2;
  std::string codec;  // h264, hevc, av1
  std::string pixel_format = "yuv420p";
  double timestamp_tolerance_s = 0;  // what the containers can keep apart (1 ms when either is Matroska)
};

struct AudioCheck {
  int source_stream = 0;
  std::int64_t source_packets = 0;
  std::int64_t output_packets = 0;
  bool identical = false;   // same count, same bytes, same order
  double sync_error_s = 0;  // how much its start moved against the video's start
};

struct OutputCheck {
  std::int64_t source_frames = 0;
  std::int64_t output_frames = 0;
  double max_timestamp_error_s = 0;  // of any frame's time from the first frame's, against the source's
  double start_shift_s = 0;          // the first frame's time against the source's: a container that cannot
                                     // start below zero (Matroska) moves every stream alike; not a problem
  int width = 0;
  int height = 0;
  std::string codec;
  std::string pixel_format;
  int rotation = 0;  // degrees clockwise, as MediaInfo says
  std::vector<AudioCheck> audio;
  std::vector<std::string> problems;  // empty when the output is right
  bool ok() const { return problems.empty(); }
};

// Probes `output` and holds it against `source` (probed as `source_info`). Errors only for files that cannot be
// read; a wrong output is an OutputCheck with problems.
Result<OutputCheck> CheckOutput(const std::string& source, const MediaInfo& source_info, const std::string& output,
                                const OutputExpectation& expected);

nlohmann::json OutputCheckJson(const OutputCheck& check);

}  // namespace tsdsr::video

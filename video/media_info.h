// What a media file is, read from its container and packets without decoding a pixel: its streams, the video
// stream's size, rates, colour tags, sample aspect ratio and rotation, and every video frame's timestamps in
// presentation order (so a frame count is exact and a variable frame rate stays visible).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tsdsr::video {

struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den != 0 ? double(num) / den : 0.0; }
  bool operator==(const Rational& o) const { return num == o.num && den == o.den; }
};

// FFmpeg's colour enums (AVColorRange, AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic) by value,
// 2 (unspecified) where the file does not say.
struct ColorTags {
  int range = 0;  // AVCOL_RANGE_UNSPECIFIED
  int space = 2;
  int primaries = 2;
  int transfer = 2;
  bool operator==(const ColorTags& o) const {
    return range == o.range && space == o.space && primaries == o.primaries && transfer == o.transfer;
  }
};

struct StreamInfo {
  int index = 0;
  std::string type;   // "video", "audio", "subtitle", "data", "attachment"
  std::string codec;  // FFmpeg's codec name, e.g. "h264", "aac", "subrip"
  Rational time_base;
  std::int64_t packets = 0;
  bool attached_picture = false;  // a cover image stored as a video stream
};

// One video frame, in presentation order.
struct FrameTime {
  std::int64_t pts = 0;       // in the video stream's time base
  std::int64_t duration = 0;  // its packet's duration (0 when the container does not say)
  bool key = false;           // its packet is a keyframe (decoding can start here)
};

struct VideoInfo {
  int stream = -1;  // index among the streams
  std::string codec;
  std::string pixel_format;  // e.g. "yuv420p"
  int width = 0;
  int height = 0;
  Rational time_base;
  Rational frame_rate;         // average (avg_frame_rate), or from the frame times
  bool variable_rate = false;  // frame durations differ by more than one tick
  Rational sample_aspect;      // 1:1 when the file says nothing
  int rotation = 0;            // degrees clockwise the display matrix turns the picture: 0, 90, 180 or 270
  ColorTags color;
  std::vector<FrameTime> frames;  // presentation order
  double duration_s() const;      // from the first frame to the end of the last
};

struct MediaInfo {
  std::string container;  // FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"
  std::vector<StreamInfo> streams;
  VideoInfo video;  // stream -1 when the file has no video stream
};

// Probes `path` (a file). InvalidArgument for what is not a readable media file (empty, truncated header, not
// media) and for a file without a video stream or without a single video frame; NotFound for a missing file.
Result<MediaInfo> ProbeFile(const std::string& path);

// {"container", "streams": [...], "video": {"codec", "width", "height", "frame_rate", "variable_rate", "frames",
//  "duration_s", "sample_aspect", "rotation", "color": {...}}}: for job status and logs.
nlohmann::json MediaInfoJson(const MediaInfo& info);

}  // namespace tsdsr::video

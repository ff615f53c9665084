// Encodes BGR images, each with its own timestamp, into one closed segment (it starts with a keyframe and refers
// to nothing outside itself): H.264, HEVC or AV1 with a software encoder (libx264, libx265, libsvtav1) or NVENC
// (video/encoders.h), yuv420p, tagged with the source's colour and sample aspect, in MP4 or Matroska, to a file or
// to memory. Segments encoded with the same options and format have the same parameter sets, so they join by
// stream copy. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "common/status.h"
#include "video/color_convert.h"
#include "video/media_info.h"
#include "video/media_io.h"

namespace tsdsr::video {

struct EncodeOptions {
  std::string codec = "hevc";     // h264, hevc or av1
  std::string encoder = "software";  // an EncoderFamilyName: software or nvenc
  int gpu = 0;                    // NVENC: the CUDA device
  int crf = -1;                   // quality (NVENC: cq); -1 = the encoder's default (EncoderSpec)
  std::string preset;             // speed; empty = the encoder's default: "fast" (x264, x265), "8" (SVT-AV1), "p5"
  std::string container = "mp4";  // of the segment: mp4 or matroska
  int threads = 0;                // encoder threads; 0 = the encoder's choice
  int keyframe_interval = 0;      // at most this many frames from one keyframe to the next; 0 = the encoder's
};

// Checks codec, encoder, container, crf and preset; InvalidArgument naming what is allowed.
Status ValidateEncodeOptions(const EncodeOptions& options);

// What every frame of the segment is.
struct SegmentFormat {
  int width = 0;
  int height = 0;
  Rational time_base{1, 25};   // of the timestamps given to Add; the source's
  Rational frame_rate{25, 1};  // nominal; the source's
  Rational sample_aspect{1, 1};
  ColorTags color;
};

class SegmentEncoder {
 public:
  // `path` empty: the segment is kept in memory and returned by Finish.
  static Result<std::unique_ptr<SegmentEncoder>> Create(const EncodeOptions& options, const SegmentFormat& format,
                                                        const std::string& path);

  // Encodes `bgr` (width × height of the format) shown at `pts` (strictly after the last one).
  Status Add(const cv::Mat& bgr, std::int64_t pts);
  // Flushes the encoder and closes the container: the segment's bytes when it was made in memory, else "".
  Result<std::string> Finish();
  int frames() const { return frames_; }

 private:
  SegmentEncoder() = default;
  Status Send(const AVFrame* frame);  // null flushes

  std::unique_ptr<Muxer> muxer_;
  CodecContext codec_;
  AVStream* stream_ = nullptr;  // owned by muxer_
  std::unique_ptr<FromBgr> from_bgr_;
  Frame frame_ = NewFrame();
  Packet packet_ = NewPacket();
  std::int64_t last_pts_ = 0;
  int frames_ = 0;
};

}  // namespace tsdsr::video

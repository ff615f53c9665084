// Decodes the video stream of a Demuxer into BGR images in presentation order, each with its own timestamp,
// optionally only a range of them (after SeekBefore its first frame; the frames before the range are dropped).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

#include <opencv2/core.hpp>

#include "common/status.h"
#include "video/color_convert.h"
#include "video/media_io.h"

namespace tsdsr::video {

struct DecodedFrame {
  cv::Mat bgr;
  std::int64_t pts = 0;  // in the decoder's time base (see Open)
};

// Called for each frame; an error stops decoding and is returned.
using FrameSink = std::function<Status(DecodedFrame frame)>;

class FrameDecoder {
 public:
  static constexpr std::int64_t kFromStart = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t kToEnd = std::numeric_limits<std::int64_t>::max();

  // Opens the decoder of `demuxer`'s first video stream, with `threads` decoding threads (0: FFmpeg picks).
  // Timestamps, given and returned, are in `time_base` (a chunk's container may count finer than its source:
  // the source's time base gives the source's timestamps back), by default the stream's own. `demuxer` must
  // outlive the decoder. InvalidArgument when there is no video stream or no decoder for its codec.
  static Result<std::unique_ptr<FrameDecoder>> Open(Demuxer& demuxer, int threads,
                                                    std::optional<Rational> time_base = std::nullopt);

  // Moves to the keyframe at or before `pts` (in the stream's time base), for a Decode of a range that starts
  // there. The error of a file that cannot seek.
  Status SeekBefore(std::int64_t pts);

  // Decodes from where the demuxer is to the end, passing the frames with first_pts <= pts <= last_pts to `sink`
  // in presentation order. InvalidArgument for damaged data; the error `sink` returned.
  Status Decode(std::int64_t first_pts, std::int64_t last_pts, const FrameSink& sink);

  int stream() const { return stream_; }
  const AVCodecContext& codec() const { return *codec_; }

 private:
  FrameDecoder(Demuxer& demuxer, int stream) : demuxer_(demuxer), stream_(stream) {}
  // Takes what the decoder has ready; `done` turns true past last_pts.
  Status Drain(std::int64_t first_pts, std::int64_t last_pts, const FrameSink& sink, bool* done);

  Demuxer& demuxer_;
  const int stream_;
  AVRational stream_time_base_{1, 1};
  AVRational time_base_{1, 1};  // of the timestamps given and returned
  CodecContext codec_;
  std::optional<ToBgr> to_bgr_;  // made for the first frame's size and format
  Frame frame_ = NewFrame();
};

}  // namespace tsdsr::video

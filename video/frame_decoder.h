// Decodes the video stream of a Demuxer into BGR images in presentation order, each with its own timestamp,
// optionally only a range of them (from the keyframe before the range; the frames before it are dropped).
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
  std::int64_t pts = 0;  // in the video stream's time base
};

// Called for each frame; an error stops decoding and is returned.
using FrameSink = std::function<Status(DecodedFrame frame)>;

class FrameDecoder {
 public:
  static constexpr std::int64_t kFromStart = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t kToEnd = std::numeric_limits<std::int64_t>::max();

  // Opens the decoder of `demuxer`'s first video stream, with `threads` decoding threads (0: FFmpeg picks).
  // `demuxer` must outlive the decoder. InvalidArgument when there is no video stream or no decoder for its codec.
  static Result<std::unique_ptr<FrameDecoder>> Open(Demuxer& demuxer, int threads);

  // Decodes every frame with first_pts <= pts <= last_pts into `sink`, in presentation order. With a first_pts
  // other than kFromStart it seeks to the keyframe at or before it first. InvalidArgument for damaged data.
  Status Decode(std::int64_t first_pts, std::int64_t last_pts, const FrameSink& sink);

  int stream() const { return stream_; }
  const AVCodecContext& codec() const { return *codec_; }

 private:
  FrameDecoder(Demuxer& demuxer, int stream) : demuxer_(demuxer), stream_(stream) {}
  // Takes what the decoder has ready; `done` turns true past last_pts.
  Status Drain(std::int64_t first_pts, std::int64_t last_pts, const FrameSink& sink, bool* done);

  Demuxer& demuxer_;
  const int stream_;
  CodecContext codec_;
  std::optional<ToBgr> to_bgr_;  // made for the first frame's size and format
  Frame frame_ = NewFrame();
};

}  // namespace tsdsr::video

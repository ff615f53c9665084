// Conversion between the video's YUV frames and the 8-bit BGR images the models take, with the stream's own colour
// matrix and range (BT.601 for SD, BT.709 for HD when a file does not say), so colours survive a round trip.
#pragma once

#include <opencv2/core.hpp>

#include "common/status.h"
#include "video/av_handles.h"
#include "video/media_info.h"

namespace tsdsr::video {

// The colour space a frame of `height` rows uses when its tags leave it unspecified: BT.709 from 720 rows up,
// else BT.601 (as players assume).
int EffectiveColorSpace(int tagged_space, int height);

// Turns decoded frames of one size and pixel format into BGR images. Not thread-safe.
class ToBgr {
 public:
  // Internal when swscale cannot convert from `format`.
  static Result<ToBgr> Create(int width, int height, AVPixelFormat format, const ColorTags& color);
  // `frame` (of the size and format given) as a new BGR image.
  cv::Mat Convert(const AVFrame& frame);

 private:
  ScaleContext sws_;
  int width_ = 0;
  int height_ = 0;
};

// Turns BGR images into YUV 4:2:0 frames tagged `color` (an unspecified range is written as limited). Not thread-safe.
class FromBgr {
 public:
  static Result<FromBgr> Create(int width, int height, const ColorTags& color);
  // Fills `frame` (allocated here on first use: width × height yuv420p) from `bgr`, which must be that size.
  Status Convert(const cv::Mat& bgr, AVFrame* frame);
  const ColorTags& color() const { return color_; }

 private:
  ScaleContext sws_;
  int width_ = 0;
  int height_ = 0;
  ColorTags color_;
};

}  // namespace tsdsr::video

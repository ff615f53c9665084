#include "video/color_convert.h"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace tsdsr::video {
namespace {

constexpr int kScaleFlags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP;

// swscale's coefficient table for an AVColorSpace (SWS_CS_* shares the numbers, except SMPTE 170M = BT.601).
const int* Coefficients(int space) {
  switch (space) {
    case AVCOL_SPC_BT709:
      return sws_getCoefficients(SWS_CS_ITU709);
    case AVCOL_SPC_FCC:
      return sws_getCoefficients(SWS_CS_FCC);
    case AVCOL_SPC_SMPTE240M:
      return sws_getCoefficients(SWS_CS_SMPTE240M);
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return sws_getCoefficients(SWS_CS_BT2020);
    default:
      return sws_getCoefficients(SWS_CS_ITU601);  // BT470BG, SMPTE170M
  }
}

bool FullRange(int range, AVPixelFormat format) {
  if (range == AVCOL_RANGE_JPEG) return true;
  // The J formats are full range by definition.
  return format == AV_PIX_FMT_YUVJ420P || format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P;
}

}  // namespace

int EffectiveColorSpace(int tagged_space, int height) {
  if (tagged_space != AVCOL_SPC_UNSPECIFIED && tagged_space != AVCOL_SPC_RESERVED) return tagged_space;
  return height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG;
}

Result<ToBgr> ToBgr::Create(int width, int height, AVPixelFormat format, const ColorTags& color) {
  ToBgr converter;
  converter.width_ = width;
  converter.height_ = height;
  converter.sws_.reset(
      sws_getContext(width, height, format, width, height, AV_PIX_FMT_BGR24, kScaleFlags, nullptr, nullptr, nullptr));
  if (!converter.sws_) {
    const char* name = av_get_pix_fmt_name(format);
    return Status::InvalidArgument(std::string("cannot convert video frames of pixel format ") +
                                   (name != nullptr ? name : "unknown") + " to RGB");
  }
  const int* coefficients = Coefficients(EffectiveColorSpace(color.space, height));
  sws_setColorspaceDetails(converter.sws_.get(), coefficients, FullRange(color.range, format) ? 1 : 0, coefficients, 1,
                           0, 1 << 16, 1 << 16);
  return converter;
}

cv::Mat ToBgr::Convert(const AVFrame& frame) {
  cv::Mat bgr(height_, width_, CV_8UC3);
  uint8_t* planes[] = {bgr.data};
  const int strides[] = {static_cast<int>(bgr.step)};
  sws_scale(sws_.get(), frame.data, frame.linesize, 0, height_, planes, strides);
  return bgr;
}

Result<FromBgr> FromBgr::Create(int width, int height, const ColorTags& color) {
  FromBgr converter;
  converter.width_ = width;
  converter.height_ = height;
  converter.color_ = color;
  if (converter.color_.range == AVCOL_RANGE_UNSPECIFIED) converter.color_.range = AVCOL_RANGE_MPEG;
  converter.sws_.reset(sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height, AV_PIX_FMT_YUV420P, kScaleFlags,
                                      nullptr, nullptr, nullptr));
  if (!converter.sws_) return Status::Internal("cannot set up the RGB to YUV conversion");
  const int* coefficients = Coefficients(EffectiveColorSpace(color.space, height));
  sws_setColorspaceDetails(converter.sws_.get(), coefficients, 1, coefficients,
                           converter.color_.range == AVCOL_RANGE_JPEG ? 1 : 0, 0, 1 << 16, 1 << 16);
  return converter;
}

Status FromBgr::Convert(const cv::Mat& bgr, AVFrame* frame) {
  if (bgr.cols != width_ || bgr.rows != height_ || bgr.type() != CV_8UC3) {
    return Status::InvalidArgument("a frame of " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                                   " in a video of " + std::to_string(width_) + "x" + std::to_string(height_));
  }
  if (frame->data[0] == nullptr) {
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = width_;
    frame->height = height_;
    const int rc = av_frame_get_buffer(frame, 0);
    if (rc < 0) return AvError(rc, "cannot allocate a video frame");
  }
  const int rc = av_frame_make_writable(frame);  // the encoder may still hold the last one
  if (rc < 0) return AvError(rc, "cannot write a video frame");
  const uint8_t* planes[] = {bgr.data};
  const int strides[] = {static_cast<int>(bgr.step)};
  sws_scale(sws_.get(), planes, strides, 0, height_, frame->data, frame->linesize);
  frame->color_range = static_cast<AVColorRange>(color_.range);
  frame->colorspace = static_cast<AVColorSpace>(color_.space);
  frame->color_primaries = static_cast<AVColorPrimaries>(color_.primaries);
  frame->color_trc = static_cast<AVColorTransferCharacteristic>(color_.transfer);
  return Status::Ok();
}

}  // namespace tsdsr::video

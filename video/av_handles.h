// FFmpeg's objects as RAII handles, and FFmpeg's error codes as Status. Everything in video/ that touches an
// FFmpeg object owns it through one of these.
#pragma once

#include <memory>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}

#include "common/status.h"

namespace tsdsr::video {

struct InputContextDeleter {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
// An opened demuxer (avformat_open_input).
using InputContext = std::unique_ptr<AVFormatContext, InputContextDeleter>;

struct OutputContextDeleter {
  void operator()(AVFormatContext* context) const { avformat_free_context(context); }
};
// A muxer (avformat_alloc_output_context2); its AVIOContext belongs to whoever opened it.
using OutputContext = std::unique_ptr<AVFormatContext, OutputContextDeleter>;

struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
using Frame = std::unique_ptr<AVFrame, FrameDeleter>;

struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
using Packet = std::unique_ptr<AVPacket, PacketDeleter>;

struct SwsContextDeleter {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
using ScaleContext = std::unique_ptr<SwsContext, SwsContextDeleter>;

// Status for FFmpeg error `code` while doing `what`: "what: <FFmpeg's text>". InvalidArgument for data FFmpeg
// cannot read (AVERROR_INVALIDDATA, unknown codec or format), NotFound for a missing file, InsufficientStorage
// for a full disk, Internal otherwise. `code` must be negative.
Status AvError(int code, std::string_view what);

// Sends FFmpeg's own log lines to spdlog from now on: errors as warnings, warnings at debug level, the rest
// (encoders' statistics, ...) not at all; SVT-AV1, which prints by itself, says only errors (SVT_LOG=1, unless
// the environment sets it). Idempotent, thread-safe; every Demuxer and Muxer calls it.
void RouteFfmpegLogs();

// A fresh frame or packet; aborts the process when FFmpeg cannot allocate a few bytes (out of memory).
Frame NewFrame();
Packet NewPacket();

}  // namespace tsdsr::video

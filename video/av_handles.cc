#include "video/av_handles.h"

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

namespace tsdsr::video {

Status AvError(int code, std::string_view what) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  std::string message = std::string(what) + ": " + text;
  switch (code) {
    case AVERROR_INVALIDDATA:
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_STREAM_NOT_FOUND:
    case AVERROR_EOF:
      return Status::InvalidArgument(message);
    case AVERROR(ENOENT):
      return Status::NotFound(message);
    case AVERROR(ENOSPC):
    case AVERROR(EDQUOT):
    case AVERROR(EROFS):
      return Status::InsufficientStorage(message);
    default:
      return Status::Internal(message);
  }
}

namespace {

void LogLine(void* object, int level, const char* format, va_list arguments) {
  if (level > AV_LOG_WARNING) return;
  char line[1024];
  int prefix = 1;
  av_log_format_line2(object, level, format, arguments, line, sizeof(line), &prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return;
  if (level <= AV_LOG_ERROR) {
    spdlog::warn("ffmpeg: {}", text);
  } else {
    spdlog::debug("ffmpeg: {}", text);
  }
}

}  // namespace

void RouteFfmpegLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_callback(&LogLine);
    setenv("SVT_LOG", "1", /*overwrite=*/0);  // SVT-AV1 prints to stdout by itself: errors only, unless told
  });
}

Frame NewFrame() {
  Frame frame(av_frame_alloc());
  if (!frame) std::abort();
  return frame;
}

Packet NewPacket() {
  Packet packet(av_packet_alloc());
  if (!packet) std::abort();
  return packet;
}

}  // namespace tsdsr::video

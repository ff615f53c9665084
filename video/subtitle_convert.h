// Text subtitles re-encoded for a container that cannot hold their codec (SRT, ASS or WebVTT into MP4 become
// mov_text): each packet is decoded to its text and encoded again, one cue for one cue, with the source packet's
// timestamps and duration unchanged. Bitmap subtitles (PGS, DVB, DVD) have no such conversion.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/status.h"
#include "video/av_handles.h"

namespace tsdsr::video {

// The text subtitle codec that `format` holds and that others convert to (mov_text for MP4 and MOV), or
// AV_CODEC_ID_NONE when this FFmpeg has no encoder for it or the format takes no converted subtitles.
AVCodecID TextSubtitleTarget(const AVOutputFormat* format);

// Whether `codec` is a text subtitle codec that libavcodec can decode (to ASS text): the ones a
// SubtitleConverter takes.
bool IsDecodableTextSubtitle(AVCodecID codec);

// Not thread-safe: one stream, one thread.
class SubtitleConverter {
 public:
  // A converter from a stream of `source` parameters (a codec IsDecodableTextSubtitle accepts) whose packets have
  // timestamps in `time_base`, to `target` (a text subtitle encoder, e.g. mov_text). InvalidArgument when the
  // source is no decodable text subtitle or `target` has no encoder; FFmpeg's error when a codec cannot open.
  static Result<std::unique_ptr<SubtitleConverter>> Create(const AVCodecParameters* source, AVRational time_base,
                                                           AVCodecID target);

  // The output stream's parameters (codec, its sample description as extradata) into `parameters`.
  Status OutputParameters(AVCodecParameters* parameters) const;

  // Turns `packet` (a source packet) into `out` (unreferenced first): true when `out` holds the converted cue,
  // with `packet`'s stream index, pts, dts, duration and flags; false when the packet holds no cue (nothing to write).
  // FFmpeg's error (InvalidArgument for a damaged packet) when the packet cannot be decoded or re-encoded.
  Result<bool> Convert(AVPacket* packet, AVPacket* out);

 private:
  SubtitleConverter() = default;

  CodecContext decoder_;
  CodecContext encoder_;
  std::vector<std::uint8_t> buffer_;  // one encoded cue
};

}  // namespace tsdsr::video

#include "video/subtitle_convert.h"

#include <cstring>
#include <string>

namespace tsdsr::video {
namespace {

// What one encoded cue may take: FFmpeg's own command line gives subtitle encoders as much (mov_text samples are
// at most 64 KiB).
constexpr int kMaxCueBytes = 1 << 20;

// Frees what a decoder put into an AVSubtitle on the stack.
struct DecodedCue {
  AVSubtitle subtitle{};
  DecodedCue() = default;
  DecodedCue(const DecodedCue&) = delete;
  DecodedCue& operator=(const DecodedCue&) = delete;
  ~DecodedCue() { avsubtitle_free(&subtitle); }
};

std::string CodecName(AVCodecID codec) { return avcodec_get_name(codec); }

Status OpenDecoder(const AVCodecParameters* source, AVRational time_base, CodecContext* decoder) {
  const AVCodec* codec = avcodec_find_decoder(source->codec_id);
  decoder->reset(avcodec_alloc_context3(codec));
  if (!*decoder) return Status::Internal("cannot allocate a subtitle decoder");
  int rc = avcodec_parameters_to_context(decoder->get(), source);  // with the extradata (ASS's script header)
  if (rc < 0) return AvError(rc, "cannot set up the " + CodecName(source->codec_id) + " decoder");
  (*decoder)->pkt_timebase = time_base;
  rc = avcodec_open2(decoder->get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "cannot open the " + CodecName(source->codec_id) + " decoder");
  return Status::Ok();
}

// The encoder takes the decoder's ASS header: the styles its cues refer to.
Status OpenEncoder(const AVCodec* codec, const AVCodecContext& decoder, CodecContext* encoder) {
  encoder->reset(avcodec_alloc_context3(codec));
  if (!*encoder) return Status::Internal("cannot allocate a subtitle encoder");
  (*encoder)->time_base = decoder.pkt_timebase;
  if (decoder.subtitle_header != nullptr && decoder.subtitle_header_size > 0) {
    const size_t size = static_cast<size_t>(decoder.subtitle_header_size);
    auto* header = static_cast<uint8_t*>(av_mallocz(size + 1));  // the encoder context owns and frees it
    if (header == nullptr) return Status::Internal("cannot allocate a subtitle header");
    std::memcpy(header, decoder.subtitle_header, size);
    (*encoder)->subtitle_header = header;
    (*encoder)->subtitle_header_size = decoder.subtitle_header_size;
  }
  const int rc = avcodec_open2(encoder->get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "cannot open the " + std::string(codec->name) + " encoder");
  return Status::Ok();
}

}  // namespace

AVCodecID TextSubtitleTarget(const AVOutputFormat* format) {
  if (format == nullptr || avcodec_find_encoder(AV_CODEC_ID_MOV_TEXT) == nullptr) return AV_CODEC_ID_NONE;
  return avformat_query_codec(format, AV_CODEC_ID_MOV_TEXT, FF_COMPLIANCE_NORMAL) == 1 ? AV_CODEC_ID_MOV_TEXT
                                                                                       : AV_CODEC_ID_NONE;
}

bool IsDecodableTextSubtitle(AVCodecID codec) {
  const AVCodecDescriptor* descriptor = avcodec_descriptor_get(codec);
  return descriptor != nullptr && descriptor->type == AVMEDIA_TYPE_SUBTITLE &&
         (descriptor->props & AV_CODEC_PROP_TEXT_SUB) != 0 && avcodec_find_decoder(codec) != nullptr;
}

Result<std::unique_ptr<SubtitleConverter>> SubtitleConverter::Create(const AVCodecParameters* source,
                                                                     AVRational time_base, AVCodecID target) {
  if (!IsDecodableTextSubtitle(source->codec_id)) {
    return Status::InvalidArgument(CodecName(source->codec_id) + " is not a text subtitle this FFmpeg can decode");
  }
  const AVCodec* encoder = avcodec_find_encoder(target);
  if (encoder == nullptr || encoder->type != AVMEDIA_TYPE_SUBTITLE) {
    return Status::InvalidArgument("no subtitle encoder for " + CodecName(target));
  }
  std::unique_ptr<SubtitleConverter> converter(new SubtitleConverter);
  TSDSR_RETURN_IF_ERROR(OpenDecoder(source, time_base, &converter->decoder_));
  TSDSR_RETURN_IF_ERROR(OpenEncoder(encoder, *converter->decoder_, &converter->encoder_));
  converter->buffer_.resize(kMaxCueBytes);
  return converter;
}

Status SubtitleConverter::OutputParameters(AVCodecParameters* parameters) const {
  const int rc = avcodec_parameters_from_context(parameters, encoder_.get());
  if (rc < 0) return AvError(rc, "cannot set the parameters of the converted subtitles");
  return Status::Ok();
}

Result<bool> SubtitleConverter::Convert(AVPacket* packet, AVPacket* out) {
  av_packet_unref(out);
  DecodedCue cue;
  AVSubtitle& decoded = cue.subtitle;
  int got = 0;
  int rc = avcodec_decode_subtitle2(decoder_.get(), &decoded, &got, packet);
  if (rc < 0) return AvError(rc, "cannot decode a " + CodecName(decoder_->codec_id) + " cue");
  if (got == 0) return false;
  // The times are the packet's; the encoder wants cues that start with their packet, as FFmpeg's program does.
  decoded.end_display_time -= decoded.start_display_time;
  decoded.start_display_time = 0;
  rc = avcodec_encode_subtitle(encoder_.get(), buffer_.data(), static_cast<int>(buffer_.size()), &decoded);
  if (rc < 0) return AvError(rc, "cannot encode a cue as " + std::string(encoder_->codec->name));
  const int size = rc;
  rc = av_new_packet(out, size);
  if (rc < 0) return AvError(rc, "cannot allocate a subtitle packet");
  std::memcpy(out->data, buffer_.data(), static_cast<size_t>(size));
  out->stream_index = packet->stream_index;
  out->pts = packet->pts;
  out->dts = packet->dts;
  out->duration = packet->duration;
  if (out->duration <= 0 && decoded.end_display_time > 0 && decoded.end_display_time != UINT32_MAX) {
    out->duration = av_rescale_q(decoded.end_display_time, AVRational{1, 1000}, decoder_->pkt_timebase);
  }
  out->flags = packet->flags | AV_PKT_FLAG_KEY;
  out->time_base = packet->time_base;
  return true;
}

}  // namespace tsdsr::video

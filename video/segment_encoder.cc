#include "video/segment_encoder.h"

#include <algorithm>
#include <cctype>

extern "C" {
#include <libavutil/opt.h>
}

#include "video/encoders.h"

namespace tsdsr::video {
namespace {

AVRational Av(const Rational& r) { return AVRational{r.num, r.den}; }

// The encoder `o` names; nullptr when its codec or family is unknown.
const EncoderSpec* SpecOf(const EncodeOptions& o) {
  auto family = EncoderFamilyFromName(o.encoder);
  return family ? FindEncoder(o.codec, *family) : nullptr;
}

// The encoder's private settings: quality, speed, and for NVENC the device and closed segments.
AVDictionary* SettingsOf(const EncoderSpec& spec, const EncodeOptions& options) {
  AVDictionary* settings = nullptr;
  av_dict_set_int(&settings, std::string(spec.quality).c_str(),
                  options.crf >= 0 ? options.crf : spec.default_quality, 0);
  av_dict_set(&settings, "preset",
              options.preset.empty() ? std::string(spec.default_preset).c_str() : options.preset.c_str(), 0);
  if (spec.ffmpeg == "libx265") av_dict_set(&settings, "x265-params", "log-level=error", 0);
  if (spec.family == EncoderFamily::kNvenc) {
    av_dict_set(&settings, "rc", "vbr", 0);           // `cq` is constant quality only under VBR
    av_dict_set_int(&settings, "forced-idr", 1, 0);  // the forced first keyframe is an IDR: the segment is closed
    av_dict_set_int(&settings, "gpu", options.gpu, 0);
  }
  return settings;
}

}  // namespace

Status ValidateEncodeOptions(const EncodeOptions& o) {
  if (FindEncoder(o.codec, EncoderFamily::kSoftware) == nullptr)
    return Status::InvalidArgument("codec must be h264, hevc or av1 (got '" + o.codec + "')");
  const EncoderSpec* spec = SpecOf(o);
  if (spec == nullptr) return Status::InvalidArgument("encoder must be software or nvenc (got '" + o.encoder + "')");
  if (o.container != "mp4" && o.container != "matroska") {
    return Status::InvalidArgument("container must be mp4 or matroska (got '" + o.container + "')");
  }
  if (o.crf < -1 || o.crf > spec->max_quality) {
    return Status::InvalidArgument("crf must be 0 to " + std::to_string(spec->max_quality) + " for " + o.codec +
                                   " with " + std::string(spec->ffmpeg));
  }
  if (o.keyframe_interval < 0) return Status::InvalidArgument("keyframe_interval must be 0 or more");
  if (o.preset.size() > 16 ||
      !std::all_of(o.preset.begin(), o.preset.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
    return Status::InvalidArgument("preset must be a word such as fast or medium (8 for av1, p1 to p7 for nvenc)");
  return Status::Ok();
}

Result<std::unique_ptr<SegmentEncoder>> SegmentEncoder::Create(const EncodeOptions& options,
                                                               const SegmentFormat& format, const std::string& path) {
  TSDSR_RETURN_IF_ERROR(ValidateEncodeOptions(options));
  const EncoderSpec& spec = *SpecOf(options);
  const std::string name(spec.ffmpeg);
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (codec == nullptr) return Status::FailedPrecondition("FFmpeg has no " + name + " encoder");
  std::unique_ptr<SegmentEncoder> e(new SegmentEncoder());
  TSDSR_ASSIGN_OR_RETURN(e->muxer_, Muxer::Create(options.container, path));
  TSDSR_ASSIGN_OR_RETURN(FromBgr converter, FromBgr::Create(format.width, format.height, format.color));
  e->from_bgr_ = std::make_unique<FromBgr>(std::move(converter));

  e->codec_.reset(avcodec_alloc_context3(codec));
  if (!e->codec_) return Status::Internal("cannot allocate a video encoder");
  AVCodecContext* c = e->codec_.get();
  c->width = format.width;
  c->height = format.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = Av(format.time_base);
  c->framerate = Av(format.frame_rate);
  c->sample_aspect_ratio = Av(format.sample_aspect);
  const ColorTags& color = e->from_bgr_->color();
  c->color_range = static_cast<AVColorRange>(color.range);
  c->colorspace = static_cast<AVColorSpace>(color.space);
  c->color_primaries = static_cast<AVColorPrimaries>(color.primaries);
  c->color_trc = static_cast<AVColorTransferCharacteristic>(color.transfer);
  c->thread_count = options.threads;
  if (options.keyframe_interval > 0) c->gop_size = options.keyframe_interval;
  if (e->muxer_->context()->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* settings = SettingsOf(spec, options);
  int rc = avcodec_open2(c, codec, &settings);
  av_dict_free(&settings);
  if (rc < 0) {
    const Status error = AvError(rc, "cannot open the " + name + " encoder");
    // An encoder that does not open here (no NVENC on this GPU, no driver) is the machine's, not the input's.
    return spec.family == EncoderFamily::kNvenc ? Status::FailedPrecondition(error.message()) : error;
  }

  e->stream_ = avformat_new_stream(e->muxer_->context(), nullptr);
  if (e->stream_ == nullptr) return Status::Internal("cannot add a video stream");
  rc = avcodec_parameters_from_context(e->stream_->codecpar, c);
  if (rc < 0) return AvError(rc, "cannot describe the video stream");
  e->stream_->time_base = c->time_base;
  e->stream_->avg_frame_rate = c->framerate;
  e->stream_->sample_aspect_ratio = c->sample_aspect_ratio;
  AVDictionary* muxing = nullptr;
  // MP4 writes a segment's start (an edit list) in the movie timescale, 1/1000 s by default: in the video's
  // own, it stays exact (29.97 fps frames are 33.367 ms apart).
  if (options.container == "mp4") av_dict_set_int(&muxing, "movie_timescale", c->time_base.den, 0);
  Status header = e->muxer_->WriteHeader(&muxing);
  av_dict_free(&muxing);
  TSDSR_RETURN_IF_ERROR(header);
  return e;
}

Status SegmentEncoder::Add(const cv::Mat& bgr, std::int64_t pts) {
  if (frames_ > 0 && pts <= last_pts_) {
    return Status::InvalidArgument("frame timestamps must increase (" + std::to_string(pts) + " after " +
                                   std::to_string(last_pts_) + ")");
  }
  TSDSR_RETURN_IF_ERROR(from_bgr_->Convert(bgr, frame_.get()));
  frame_->pts = pts;
  frame_->pict_type = frames_ == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;  // a segment opens on a keyframe
  last_pts_ = pts;
  ++frames_;
  return Send(frame_.get());
}

Status SegmentEncoder::Send(const AVFrame* frame) {
  int rc = avcodec_send_frame(codec_.get(), frame);
  if (rc < 0 && rc != AVERROR_EOF) return AvError(rc, "cannot encode a frame");
  while (true) {
    rc = avcodec_receive_packet(codec_.get(), packet_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return AvError(rc, "cannot encode a frame");
    av_packet_rescale_ts(packet_.get(), codec_->time_base, stream_->time_base);
    packet_->stream_index = stream_->index;
    TSDSR_RETURN_IF_ERROR(muxer_->Write(packet_.get()));
  }
}

Result<std::string> SegmentEncoder::Finish() {
  TSDSR_RETURN_IF_ERROR(Send(nullptr));
  TSDSR_RETURN_IF_ERROR(muxer_->Finish());
  return muxer_->TakeBytes();
}

}  // namespace tsdsr::video

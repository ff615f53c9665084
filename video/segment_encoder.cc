#include "video/segment_encoder.h"

#include <cctype>

extern "C" {
#include <libavutil/opt.h>
}

namespace tsdsr::video {
namespace {

struct CodecChoice {
  const char* name;     // ours
  const char* encoder;  // FFmpeg's
  int crf;
  const char* preset;
};

constexpr CodecChoice kCodecs[] = {
    {"h264", "libx264", 20, "fast"}, {"hevc", "libx265", 22, "fast"}, {"av1", "libsvtav1", 30, "8"}};

const CodecChoice* ChoiceOf(const std::string& codec) {
  for (const auto& c : kCodecs) {
    if (codec == c.name) return &c;
  }
  return nullptr;
}

AVRational Av(const Rational& r) { return AVRational{r.num, r.den}; }

}  // namespace

Status ValidateEncodeOptions(const EncodeOptions& o) {
  if (ChoiceOf(o.codec) == nullptr)
    return Status::InvalidArgument("codec must be h264, hevc or av1 (got '" + o.codec + "')");
  if (o.container != "mp4" && o.container != "matroska") {
    return Status::InvalidArgument("container must be mp4 or matroska (got '" + o.container + "')");
  }
  const int max_crf = o.codec == "av1" ? 63 : 51;
  if (o.crf < -1 || o.crf > max_crf) {
    return Status::InvalidArgument("crf must be 0 to " + std::to_string(max_crf) + " for " + o.codec);
  }
  if (o.keyframe_interval < 0) return Status::InvalidArgument("keyframe_interval must be 0 or more");
  for (char c : o.preset) {
    if (!std::isalnum(static_cast<unsigned char>(c)))
      return Status::InvalidArgument("preset must be a word, e.g. fast");
  }
  return Status::Ok();
}

Result<std::unique_ptr<SegmentEncoder>> SegmentEncoder::Create(const EncodeOptions& options,
                                                               const SegmentFormat& format, const std::string& path) {
  TSDSR_RETURN_IF_ERROR(ValidateEncodeOptions(options));
  const CodecChoice& choice = *ChoiceOf(options.codec);
  const AVCodec* codec = avcodec_find_encoder_by_name(choice.encoder);
  if (codec == nullptr) return Status::FailedPrecondition(std::string("FFmpeg has no ") + choice.encoder + " encoder");
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
  AVDictionary* settings = nullptr;
  av_dict_set_int(&settings, "crf", options.crf >= 0 ? options.crf : choice.crf, 0);
  av_dict_set(&settings, "preset", options.preset.empty() ? choice.preset : options.preset.c_str(), 0);
  if (options.codec == "hevc") av_dict_set(&settings, "x265-params", "log-level=error", 0);
  int rc = avcodec_open2(c, codec, &settings);
  av_dict_free(&settings);
  if (rc < 0) return AvError(rc, std::string("cannot open the ") + choice.encoder + " encoder");

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

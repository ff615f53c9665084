#include "video/frame_decoder.h"

namespace tsdsr::video {

Result<std::unique_ptr<FrameDecoder>> FrameDecoder::Open(Demuxer& demuxer, int threads,
                                                         std::optional<Rational> time_base) {
  AVFormatContext* context = demuxer.context();
  const int stream = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream < 0) return Status::InvalidArgument(demuxer.name() + " has no video stream");
  const AVCodecParameters* parameters = context->streams[stream]->codecpar;
  const AVCodec* codec = avcodec_find_decoder(parameters->codec_id);
  if (codec == nullptr) {
    return Status::InvalidArgument(demuxer.name() + ": no decoder for its video codec " +
                                   avcodec_get_name(parameters->codec_id));
  }
  std::unique_ptr<FrameDecoder> decoder(new FrameDecoder(demuxer, stream));
  decoder->stream_time_base_ = context->streams[stream]->time_base;
  decoder->time_base_ = time_base ? AVRational{time_base->num, time_base->den} : decoder->stream_time_base_;
  decoder->codec_.reset(avcodec_alloc_context3(codec));
  if (!decoder->codec_) return Status::Internal("cannot allocate a video decoder");
  int rc = avcodec_parameters_to_context(decoder->codec_.get(), parameters);
  if (rc < 0) return AvError(rc, "cannot set up the video decoder");
  decoder->codec_->pkt_timebase = context->streams[stream]->time_base;
  decoder->codec_->thread_count = threads;
  rc = avcodec_open2(decoder->codec_.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "cannot open the " + std::string(codec->name) + " decoder");
  return decoder;
}

Status FrameDecoder::SeekBefore(std::int64_t pts) {
  const std::int64_t target = av_rescale_q(pts, time_base_, stream_time_base_);
  const int rc = av_seek_frame(demuxer_.context(), stream_, target, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) return AvError(rc, "cannot seek in " + demuxer_.name());
  avcodec_flush_buffers(codec_.get());
  return Status::Ok();
}

Status FrameDecoder::Decode(std::int64_t first_pts, std::int64_t last_pts, const FrameSink& sink) {
  Packet packet = NewPacket();
  bool done = false;
  while (!done) {
    TSDSR_ASSIGN_OR_RETURN(bool more, demuxer_.Read(packet.get()));
    if (more && packet->stream_index != stream_) continue;
    const int rc = avcodec_send_packet(codec_.get(), more ? packet.get() : nullptr);  // null: flush at the end
    if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) return AvError(rc, "cannot decode " + demuxer_.name());
    TSDSR_RETURN_IF_ERROR(Drain(first_pts, last_pts, sink, &done));
    if (!more) break;
  }
  return Status::Ok();
}

Status FrameDecoder::Drain(std::int64_t first_pts, std::int64_t last_pts, const FrameSink& sink, bool* done) {
  while (true) {
    const int rc = avcodec_receive_frame(codec_.get(), frame_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return AvError(rc, "cannot decode " + demuxer_.name());
    const std::int64_t pts =
        frame_->best_effort_timestamp != AV_NOPTS_VALUE ? frame_->best_effort_timestamp : frame_->pts;
    if (pts > last_pts) {
      *done = true;
      av_frame_unref(frame_.get());
      continue;  // the rest of what the decoder holds is later still
    }
    if (pts >= first_pts) {
      if (to_bgr_ && (frame_->width != codec_->width || frame_->height != codec_->height)) {
        return Status::InvalidArgument(demuxer_.name() + ": the frame size changes within the stream");
      }
      if (!to_bgr_) {
        const AVCodecParameters* p = demuxer_.context()->streams[stream_]->codecpar;
        TSDSR_ASSIGN_OR_RETURN(ToBgr converter,
                               ToBgr::Create(frame_->width, frame_->height, static_cast<AVPixelFormat>(frame_->format),
                                             {p->color_range, p->color_space, p->color_primaries, p->color_trc}));
        to_bgr_ = std::move(converter);
      }
      DecodedFrame decoded{to_bgr_->Convert(*frame_), pts};
      av_frame_unref(frame_.get());
      TSDSR_RETURN_IF_ERROR(sink(std::move(decoded)));
      continue;
    }
    av_frame_unref(frame_.get());
  }
}

}  // namespace tsdsr::video

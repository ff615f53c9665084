#include "video/chunk_source.h"

#include <algorithm>

#include "video/media_io.h"

namespace tsdsr::video {

Result<std::string> ExtractChunk(const std::string& source, const VideoInfo& video, const ChunkRange& range) {
  if (range.first > range.last || range.last >= video.frames.size()) {
    return Status::InvalidArgument("chunk out of the video's frames");
  }
  TSDSR_ASSIGN_OR_RETURN(auto demuxer, Demuxer::OpenFile(source));
  AVFormatContext* in = demuxer->context();
  if (video.stream < 0 || video.stream >= static_cast<int>(in->nb_streams)) {
    return Status::InvalidArgument(source + " no longer has its video stream");
  }
  const AVStream* stream = in->streams[video.stream];
  // QuickTime for most sources; Matroska for a stream counted in milliseconds already (a Matroska source, which
  // gives no decode timestamps QuickTime could write): either keeps every timestamp exact.
  const bool millis = stream->time_base.num == 1 && stream->time_base.den == 1000;
  const std::int64_t start_pts = video.frames[KeyframeBefore(video, range.first)].pts;
  const std::int64_t last_pts = video.frames[range.last].pts;
  int rc = av_seek_frame(in, video.stream, start_pts, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) return AvError(rc, "cannot seek in " + source);

  TSDSR_ASSIGN_OR_RETURN(auto muxer, Muxer::Create(millis ? "matroska" : "mov", ""));
  AVStream* out = avformat_new_stream(muxer->context(), nullptr);
  if (out == nullptr) return Status::Internal("cannot add a stream");
  rc = avcodec_parameters_copy(out->codecpar, stream->codecpar);
  if (rc < 0) return AvError(rc, "cannot copy the video parameters");
  out->codecpar->codec_tag = 0;
  // Matroska stores presentation times only; its demuxer makes decode times up for some packets and not for
  // others. The muxer derives consistent ones from the presentation times when none is given and it knows how
  // far frames may be reordered: 16 is more than any codec does.
  if (millis) out->codecpar->video_delay = std::max(out->codecpar->video_delay, 16);
  out->time_base = stream->time_base;
  out->avg_frame_rate = stream->avg_frame_rate;
  out->sample_aspect_ratio = stream->sample_aspect_ratio;
  AVDictionary* options = nullptr;
  if (!millis) av_dict_set_int(&options, "movie_timescale", stream->time_base.den, 0);  // exact (SegmentEncoder)
  Status header = muxer->WriteHeader(&options);
  av_dict_free(&options);
  TSDSR_RETURN_IF_ERROR(header);

  // From the keyframe's packet on, in decode order, until the last frame of the range is in: every frame a
  // frame of the range refers to comes before it in decode order. (Matroska gives no decode timestamps, and in
  // an open GOP frames shown before a keyframe come after it, so only the presentation timestamps are used.)
  Packet packet = NewPacket();
  bool started = false;
  size_t in_range = 0;
  const std::int64_t first_pts = video.frames[range.first].pts;
  while (in_range < range.frames()) {
    TSDSR_ASSIGN_OR_RETURN(bool more, demuxer->Read(packet.get()));
    if (!more) break;
    if (packet->stream_index != video.stream) continue;
    const std::int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
    if (!started) {
      if (!(packet->flags & AV_PKT_FLAG_KEY) || pts != start_pts) continue;  // a seek may land before it
      started = true;
    }
    if (pts >= first_pts && pts <= last_pts) ++in_range;
    packet->stream_index = out->index;
    packet->pos = -1;
    if (millis) packet->dts = AV_NOPTS_VALUE;
    av_packet_rescale_ts(packet.get(), stream->time_base, out->time_base);
    TSDSR_RETURN_IF_ERROR(muxer->Write(packet.get()));
  }
  if (!started) return Status::InvalidArgument(source + ": no keyframe where the probe found one");
  TSDSR_RETURN_IF_ERROR(muxer->Finish());
  return muxer->TakeBytes();
}

}  // namespace tsdsr::video

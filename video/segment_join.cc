#include "video/segment_join.h"

#include <cmath>
#include <cstring>
#include <map>

#include "video/media_io.h"
#include "video/subtitle_convert.h"

namespace tsdsr::video {
namespace {

// The source streams converted on the way (text subtitles the container cannot hold), by source stream.
using Converters = std::map<int, std::unique_ptr<SubtitleConverter>>;

// A source of packets for one output stream, read in order: the segments one after the other, or the source file.
class PacketCursor {
 public:
  PacketCursor(std::vector<std::string> files, std::map<int, int> streams, Converters converters = {})
      : files_(std::move(files)), streams_(std::move(streams)), converters_(std::move(converters)) {}

  // The next packet (timestamps in its input stream's time base, `*time_base` says which; converted where a
  // converter is set) into `packet` and its output stream into `*output`; false when every file is read.
  Result<bool> Next(AVPacket* packet, int* output, AVRational* time_base) {
    while (true) {
      if (!demuxer_) {
        if (next_file_ >= files_.size()) return false;
        TSDSR_ASSIGN_OR_RETURN(demuxer_, Demuxer::OpenFile(files_[next_file_++]));
      }
      TSDSR_ASSIGN_OR_RETURN(bool more, demuxer_->Read(packet));
      if (!more) {
        demuxer_.reset();
        continue;
      }
      auto it = streams_.find(packet->stream_index);
      if (it == streams_.end()) continue;
      *output = it->second;
      *time_base = demuxer_->context()->streams[packet->stream_index]->time_base;
      TSDSR_ASSIGN_OR_RETURN(bool has_packet, Convert(packet));
      if (has_packet) return true;
    }
  }

 private:
  // Replaces `packet` by its conversion when its stream has a converter; false when that makes no packet.
  Result<bool> Convert(AVPacket* packet) {
    auto converter = converters_.find(packet->stream_index);
    if (converter == converters_.end()) return true;
    auto converted = converter->second->Convert(packet, converted_.get());
    if (!converted.ok()) {
      const Status& s = converted.status();
      return Status(s.code(),
                    demuxer_->name() + " stream " + std::to_string(packet->stream_index) + ": " + s.message());
    }
    if (!*converted) return false;
    av_packet_unref(packet);
    av_packet_move_ref(packet, converted_.get());
    return true;
  }

  std::vector<std::string> files_;
  std::map<int, int> streams_;  // input stream -> output stream
  Converters converters_;
  Packet converted_ = NewPacket();
  size_t next_file_ = 0;
  std::unique_ptr<Demuxer> demuxer_;
};

struct SourceStreams {
  std::map<int, int> mapping;  // source stream -> output stream
  Converters converters;
};

StreamFate FateOf(const AVStream* stream) {
  StreamFate fate;
  fate.source_index = stream->index;
  const char* type = av_get_media_type_string(stream->codecpar->codec_type);
  fate.type = type != nullptr ? type : "unknown";
  fate.codec = avcodec_get_name(stream->codecpar->codec_id);
  return fate;
}

// A new output stream with `stream`'s time base, disposition and metadata (language, title, ...).
Result<AVStream*> NewStreamLike(const AVStream* stream, Muxer& muxer) {
  AVStream* out = avformat_new_stream(muxer.context(), nullptr);
  if (out == nullptr) return Status::Internal("cannot add a stream");
  out->time_base = stream->time_base;
  out->disposition = stream->disposition;
  av_dict_copy(&out->metadata, stream->metadata, 0);
  return out;
}

// Adds `stream` converted to the text subtitle codec the container holds, when it is a text subtitle that
// converts; false, with the reason in `fate`, when it is not (bitmap subtitles, other media, a failed set-up).
Result<bool> AddConverted(const AVStream* stream, Muxer& muxer, StreamFate* fate, SourceStreams* streams) {
  const std::string cannot = std::string(muxer.context()->oformat->name) + " cannot hold " + fate->codec;
  const AVCodecID target = TextSubtitleTarget(muxer.context()->oformat);
  if (stream->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE || target == AV_CODEC_ID_NONE) {
    fate->reason = cannot;
    return false;
  }
  if (!IsDecodableTextSubtitle(stream->codecpar->codec_id)) {
    fate->reason = cannot + " (not a text subtitle that converts to " + avcodec_get_name(target) + ")";
    return false;
  }
  auto converter = SubtitleConverter::Create(stream->codecpar, stream->time_base, target);
  if (!converter.ok()) {
    fate->reason = cannot + " and cannot convert it: " + converter.status().message();
    return false;
  }
  TSDSR_ASSIGN_OR_RETURN(AVStream * out, NewStreamLike(stream, muxer));
  TSDSR_RETURN_IF_ERROR((*converter)->OutputParameters(out->codecpar));
  streams->mapping[stream->index] = out->index;
  streams->converters[stream->index] = std::move(*converter);
  fate->converted_to = avcodec_get_name(target);
  return true;
}

// The source's streams other than its main video, added to `muxer` when its format takes them, as they are or
// converted.
Result<SourceStreams> AddSourceStreams(const Demuxer& source, Muxer& muxer, JoinReport* report) {
  AVFormatContext* in = source.context();
  const int video = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  SourceStreams streams;
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    const AVStream* stream = in->streams[i];
    if (static_cast<int>(i) == video) continue;
    StreamFate fate = FateOf(stream);
    // What FFmpeg can write there at all: FLAC or Opus in MP4 count, though FFmpeg calls them experimental (they
    // are standard mappings that players read); losing a film's audio would be worse.
    const int fits =
        avformat_query_codec(muxer.context()->oformat, stream->codecpar->codec_id, FF_COMPLIANCE_EXPERIMENTAL);
    if (fits != 1) {
      TSDSR_ASSIGN_OR_RETURN(fate.kept, AddConverted(stream, muxer, &fate, &streams));
      report->streams.push_back(fate);
      continue;
    }
    TSDSR_ASSIGN_OR_RETURN(AVStream * out, NewStreamLike(stream, muxer));
    int rc = avcodec_parameters_copy(out->codecpar, stream->codecpar);
    if (rc < 0) return AvError(rc, "cannot copy the parameters of stream " + std::to_string(i));
    out->codecpar->codec_tag = 0;
    streams.mapping[static_cast<int>(i)] = out->index;
    fate.kept = true;
    report->streams.push_back(fate);
  }
  return streams;
}

// Gives the output video the display matrix of the source's video (how players turn it: the frames stay in
// their coded orientation), its translation scaled as the picture was.
Status CopyDisplayMatrix(const Demuxer& source, AVStream* video) {
  AVFormatContext* in = source.context();
  const int index = av_find_best_stream(in, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return Status::Ok();
  const AVStream* stream = in->streams[index];
  size_t size = 0;
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (matrix == nullptr || size < 9 * sizeof(std::int32_t)) return Status::Ok();
  std::int32_t m[9];
  std::memcpy(m, matrix, sizeof(m));
  if (stream->codecpar->width > 0) {  // the same scale on both axes
    const double scale = double(video->codecpar->width) / stream->codecpar->width;
    m[6] = static_cast<std::int32_t>(std::lround(m[6] * scale));
    m[7] = static_cast<std::int32_t>(std::lround(m[7] * scale));
  }
  uint8_t* copy = av_stream_new_side_data(video, AV_PKT_DATA_DISPLAYMATRIX, sizeof(m));
  if (copy == nullptr) return Status::Internal("cannot add the display matrix to the output video");
  std::memcpy(copy, m, sizeof(m));
  return Status::Ok();
}

double Seconds(const AVPacket& packet, AVRational time_base) {
  const std::int64_t t = packet.dts != AV_NOPTS_VALUE ? packet.dts : packet.pts;
  return t == AV_NOPTS_VALUE ? 0.0 : double(t) * av_q2d(time_base);
}

// Writes the merge of the two cursors in time order; keeps video decode timestamps increasing.
Status Interleave(PacketCursor& video, PacketCursor& others, Muxer& muxer, JoinReport* report) {
  Packet next[2] = {NewPacket(), NewPacket()};
  int stream[2] = {0, 0};
  AVRational base[2] = {{1, 1}, {1, 1}};
  TSDSR_ASSIGN_OR_RETURN(bool has_video, video.Next(next[0].get(), &stream[0], &base[0]));
  TSDSR_ASSIGN_OR_RETURN(bool has_other, others.Next(next[1].get(), &stream[1], &base[1]));
  std::int64_t last_video_dts = AV_NOPTS_VALUE;
  while (has_video || has_other) {
    const int pick = !has_other || (has_video && Seconds(*next[0], base[0]) <= Seconds(*next[1], base[1])) ? 0 : 1;
    AVPacket* packet = next[pick].get();
    AVStream* out = muxer.context()->streams[stream[pick]];
    av_packet_rescale_ts(packet, base[pick], out->time_base);
    packet->stream_index = stream[pick];
    packet->pos = -1;
    if (pick == 0) {
      if (last_video_dts != AV_NOPTS_VALUE && packet->dts != AV_NOPTS_VALUE && packet->dts <= last_video_dts) {
        packet->dts = last_video_dts + 1;  // a segment's encoder delay may reach back into the one before
        if (packet->pts != AV_NOPTS_VALUE && packet->pts < packet->dts) packet->pts = packet->dts;
      }
      last_video_dts = packet->dts;
      ++report->video_packets;
    }
    TSDSR_RETURN_IF_ERROR(muxer.Write(packet));
    if (pick == 0) {
      TSDSR_ASSIGN_OR_RETURN(has_video, video.Next(next[0].get(), &stream[0], &base[0]));
    } else {
      TSDSR_ASSIGN_OR_RETURN(has_other, others.Next(next[1].get(), &stream[1], &base[1]));
    }
  }
  return Status::Ok();
}

// Adds the output video stream, with the parameters of the video of `segment` (every segment shares them); the
// index of the video stream in the segments.
Result<int> AddVideoStream(const Demuxer& segment, Muxer& muxer) {
  const int segment_video = av_find_best_stream(segment.context(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (segment_video < 0) return Status::InvalidArgument(segment.name() + " has no video stream");
  AVStream* video = avformat_new_stream(muxer.context(), nullptr);
  if (video == nullptr) return Status::Internal("cannot add the video stream");
  const AVStream* segment_stream = segment.context()->streams[segment_video];
  int rc = avcodec_parameters_copy(video->codecpar, segment_stream->codecpar);
  if (rc < 0) return AvError(rc, "cannot copy the video parameters");
  video->codecpar->codec_tag = 0;
  video->time_base = segment_stream->time_base;
  video->avg_frame_rate = segment_stream->avg_frame_rate;
  video->sample_aspect_ratio = segment_stream->sample_aspect_ratio;
  return segment_video;
}

}  // namespace

Result<JoinReport> JoinSegments(const std::vector<std::string>& segments, const std::string& source,
                                const std::string& output, const std::string& container) {
  if (segments.empty()) return Status::InvalidArgument("no segments to join");
  TSDSR_ASSIGN_OR_RETURN(auto first, Demuxer::OpenFile(segments.front()));
  TSDSR_ASSIGN_OR_RETURN(auto muxer, Muxer::Create(container, output));
  muxer->context()->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;  // see AddSourceStreams
  TSDSR_ASSIGN_OR_RETURN(int segment_video, AddVideoStream(*first, *muxer));
  AVStream* video = muxer->context()->streams[0];
  first.reset();

  JoinReport report;
  TSDSR_ASSIGN_OR_RETURN(auto source_demuxer, Demuxer::OpenFile(source));
  TSDSR_RETURN_IF_ERROR(CopyDisplayMatrix(*source_demuxer, video));
  TSDSR_ASSIGN_OR_RETURN(SourceStreams others, AddSourceStreams(*source_demuxer, *muxer, &report));
  source_demuxer.reset();
  AVDictionary* options = nullptr;
  if (container == "mp4") {
    av_dict_set(&options, "movflags", "+faststart", 0);
    av_dict_set_int(&options, "movie_timescale", video->time_base.den, 0);  // exact start times (see SegmentEncoder)
  }
  Status header = muxer->WriteHeader(&options);
  av_dict_free(&options);
  TSDSR_RETURN_IF_ERROR(header);

  PacketCursor video_cursor(segments, {{segment_video, video->index}});
  PacketCursor other_cursor({source}, std::move(others.mapping), std::move(others.converters));
  TSDSR_RETURN_IF_ERROR(Interleave(video_cursor, other_cursor, *muxer, &report));
  TSDSR_RETURN_IF_ERROR(muxer->Finish());
  return report;
}

nlohmann::json JoinReportJson(const JoinReport& report) {
  nlohmann::json streams = nlohmann::json::array();
  for (const StreamFate& s : report.streams) {
    nlohmann::json entry{{"source_index", s.source_index}, {"type", s.type}, {"codec", s.codec}, {"kept", s.kept}};
    if (!s.converted_to.empty()) entry["converted_to"] = s.converted_to;
    if (!s.kept) entry["reason"] = s.reason;
    streams.push_back(std::move(entry));
  }
  return {{"video_packets", report.video_packets}, {"streams", streams}};
}

}  // namespace tsdsr::video

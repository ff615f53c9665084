#include "video/media_info.h"

#include <algorithm>
#include <cmath>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include "video/media_io.h"

namespace tsdsr::video {
namespace {

std::string TypeName(AVMediaType type) {
  const char* name = av_get_media_type_string(type);
  return name != nullptr ? name : "unknown";
}

int RotationOf(const AVStream* stream) {
  size_t size = 0;
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (matrix == nullptr || size < 9 * sizeof(int32_t)) return 0;
  const double degrees = -av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));  // to clockwise
  const int rounded = static_cast<int>(std::lround(degrees / 90.0)) * 90;
  return ((rounded % 360) + 360) % 360;
}

void DescribeVideo(const AVStream* stream, VideoInfo* video) {
  const AVCodecParameters* p = stream->codecpar;
  video->stream = stream->index;
  video->codec = avcodec_get_name(p->codec_id);
  const char* format = av_get_pix_fmt_name(static_cast<AVPixelFormat>(p->format));
  video->pixel_format = format != nullptr ? format : "unknown";
  video->width = p->width;
  video->height = p->height;
  video->time_base = {stream->time_base.num, stream->time_base.den};
  video->frame_rate = {stream->avg_frame_rate.num, stream->avg_frame_rate.den};
  const AVRational sar = p->sample_aspect_ratio.num > 0 ? p->sample_aspect_ratio : AVRational{1, 1};
  video->sample_aspect = {sar.num, sar.den};
  video->rotation = RotationOf(stream);
  video->color = {p->color_range, p->color_space, p->color_primaries, p->color_trc};
}

// Reads every packet: counts each stream's and records the video frames' times, then sorts them into
// presentation order and derives what the container did not say.
Status ScanPackets(Demuxer& demuxer, MediaInfo* info) {
  Packet packet = NewPacket();
  std::vector<FrameTime>& frames = info->video.frames;
  while (true) {
    TSDSR_ASSIGN_OR_RETURN(bool more, demuxer.Read(packet.get()));
    if (!more) break;
    if (packet->stream_index < 0 || packet->stream_index >= static_cast<int>(info->streams.size())) continue;
    info->streams[static_cast<size_t>(packet->stream_index)].packets += 1;
    if (packet->stream_index != info->video.stream) continue;
    const std::int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
    if (pts == AV_NOPTS_VALUE) return Status::InvalidArgument(demuxer.name() + " has video packets without timestamps");
    frames.push_back({pts, packet->duration, (packet->flags & AV_PKT_FLAG_KEY) != 0});
  }
  std::stable_sort(frames.begin(), frames.end(), [](const FrameTime& a, const FrameTime& b) { return a.pts < b.pts; });
  return Status::Ok();
}

// The frame rate from the frame times when the container gave none, and whether it varies.
void DeriveRate(VideoInfo* video) {
  const auto& f = video->frames;
  if (f.size() < 2) return;
  std::int64_t shortest = INT64_MAX;
  std::int64_t longest = 0;
  for (size_t i = 1; i < f.size(); ++i) {
    const std::int64_t step = f[i].pts - f[i - 1].pts;
    shortest = std::min(shortest, step);
    longest = std::max(longest, step);
  }
  video->variable_rate = longest - shortest > 1;
  if (video->frame_rate.num <= 0) {
    AVRational rate = av_mul_q(AVRational{static_cast<int>(f.size() - 1), 1},
                               av_inv_q(av_mul_q(AVRational{static_cast<int>(f.back().pts - f.front().pts), 1},
                                                 AVRational{video->time_base.num, video->time_base.den})));
    av_reduce(&rate.num, &rate.den, rate.num, rate.den, 1 << 30);
    video->frame_rate = {rate.num, rate.den};
  }
}

}  // namespace

double VideoInfo::duration_s() const {
  if (frames.empty()) return 0;
  const std::int64_t last = frames.back().duration > 0 ? frames.back().duration
                            : frames.size() > 1        ? frames.back().pts - frames[frames.size() - 2].pts
                                                       : 0;
  return double(frames.back().pts + last - frames.front().pts) * time_base.value();
}

Result<MediaInfo> ProbeFile(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<Demuxer> demuxer, Demuxer::OpenFile(path));
  AVFormatContext* context = demuxer->context();
  MediaInfo info;
  info.container = context->iformat->name;
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    const AVStream* stream = context->streams[i];
    StreamInfo s;
    s.index = static_cast<int>(i);
    s.type = TypeName(stream->codecpar->codec_type);
    s.codec = avcodec_get_name(stream->codecpar->codec_id);
    s.time_base = {stream->time_base.num, stream->time_base.den};
    s.attached_picture = (stream->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
    info.streams.push_back(s);
    if (s.type == "video" && !s.attached_picture && info.video.stream < 0) DescribeVideo(stream, &info.video);
  }
  if (info.video.stream < 0) return Status::InvalidArgument(path + " has no video stream");
  if (info.video.width <= 0 || info.video.height <= 0) {
    return Status::InvalidArgument(path + ": the video stream has no frame size (codec " + info.video.codec + ")");
  }
  TSDSR_RETURN_IF_ERROR(ScanPackets(*demuxer, &info));
  if (info.video.frames.empty()) return Status::InvalidArgument(path + " has a video stream without frames");
  DeriveRate(&info.video);
  return info;
}

nlohmann::json MediaInfoJson(const MediaInfo& info) {
  using nlohmann::json;
  json streams = json::array();
  for (const auto& s : info.streams) {
    streams.push_back({{"index", s.index}, {"type", s.type}, {"codec", s.codec}, {"packets", s.packets}});
  }
  const VideoInfo& v = info.video;
  auto rational = [](const Rational& r) { return std::to_string(r.num) + "/" + std::to_string(r.den); };
  return json{{"container", info.container},
              {"streams", streams},
              {"video",
               {{"codec", v.codec},
                {"pixel_format", v.pixel_format},
                {"width", v.width},
                {"height", v.height},
                {"frame_rate", rational(v.frame_rate)},
                {"variable_rate", v.variable_rate},
                {"frames", v.frames.size()},
                {"duration_s", v.duration_s()},
                {"sample_aspect", rational(v.sample_aspect)},
                {"rotation", v.rotation},
                {"color",
                 {{"range", v.color.range},
                  {"space", v.color.space},
                  {"primaries", v.color.primaries},
                  {"transfer", v.color.transfer}}}}}};
}

}  // namespace tsdsr::video

#include "video/output_check.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "video/media_io.h"

namespace tsdsr::video {
namespace {

struct AudioStream {
  std::vector<std::string> packets;  // bytes, in file order
  double start_s = 1e300;            // the earliest packet's time
};

// Every audio packet of `path`, by stream index.
Result<std::map<int, AudioStream>> AudioPackets(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(auto demuxer, Demuxer::OpenFile(path));
  std::map<int, AudioStream> streams;
  Packet packet = NewPacket();
  while (true) {
    TSDSR_ASSIGN_OR_RETURN(bool more, demuxer->Read(packet.get()));
    if (!more) break;
    const AVStream* stream = demuxer->context()->streams[packet->stream_index];
    if (stream->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    AudioStream& a = streams[packet->stream_index];
    a.packets.emplace_back(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    if (packet->pts != AV_NOPTS_VALUE) a.start_s = std::min(a.start_s, double(packet->pts) * av_q2d(stream->time_base));
  }
  return streams;
}

double VideoStart(const VideoInfo& v) { return v.frames.empty() ? 0 : double(v.frames[0].pts) * v.time_base.value(); }

void CheckFrames(const VideoInfo& in, const VideoInfo& out, const OutputExpectation& expected, OutputCheck* check) {
  check->source_frames = static_cast<std::int64_t>(in.frames.size());
  check->output_frames = static_cast<std::int64_t>(out.frames.size());
  if (check->output_frames != check->source_frames) {
    check->problems.push_back(std::to_string(check->output_frames) + " frames, not the source's " +
                              std::to_string(check->source_frames));
  }
  const size_t n = std::min(in.frames.size(), out.frames.size());
  for (size_t i = 0; i < n; ++i) {
    const double t_in = double(in.frames[i].pts - in.frames[0].pts) * in.time_base.value();
    const double t_out = double(out.frames[i].pts - out.frames[0].pts) * out.time_base.value();
    check->max_timestamp_error_s = std::max(check->max_timestamp_error_s, std::abs(t_out - t_in));
  }
  check->start_shift_s = VideoStart(out) - VideoStart(in);
  if (check->max_timestamp_error_s > expected.timestamp_tolerance_s + 1e-9) {
    check->problems.push_back("frame times differ from the source's by up to " +
                              std::to_string(check->max_timestamp_error_s) + " s");
  }
  check->width = out.width;
  check->height = out.height;
  if (out.width != in.width * expected.scale || out.height != in.height * expected.scale) {
    check->problems.push_back("size " + std::to_string(out.width) + "x" + std::to_string(out.height) + ", not " +
                              std::to_string(in.width * expected.scale) + "x" +
                              std::to_string(in.height * expected.scale));
  }
  check->codec = out.codec;
  if (!expected.codec.empty() && out.codec != expected.codec) check->problems.push_back("codec " + out.codec);
  check->pixel_format = out.pixel_format;
  if (out.pixel_format != expected.pixel_format) check->problems.push_back("pixel format " + out.pixel_format);
  check->rotation = out.rotation;
  if (out.rotation != in.rotation) {
    check->problems.push_back("rotation " + std::to_string(out.rotation) + ", not the source's " +
                              std::to_string(in.rotation));
  }
}

}  // namespace

Result<OutputCheck> CheckOutput(const std::string& source, const MediaInfo& source_info, const std::string& output,
                                const OutputExpectation& expected) {
  TSDSR_ASSIGN_OR_RETURN(MediaInfo out, ProbeFile(output));
  OutputCheck check;
  CheckFrames(source_info.video, out.video, expected, &check);
  TSDSR_ASSIGN_OR_RETURN(auto in_audio, AudioPackets(source));
  TSDSR_ASSIGN_OR_RETURN(auto out_audio, AudioPackets(output));
  // Audio streams keep their order in the output; pair them up in that order.
  auto out_it = out_audio.begin();
  for (const auto& [stream, source] : in_audio) {
    AudioCheck a;
    a.source_stream = stream;
    a.source_packets = static_cast<std::int64_t>(source.packets.size());
    if (out_it != out_audio.end()) {
      a.output_packets = static_cast<std::int64_t>(out_it->second.packets.size());
      a.identical = out_it->second.packets == source.packets;
      a.sync_error_s =
          std::abs((out_it->second.start_s - VideoStart(out.video)) - (source.start_s - VideoStart(source_info.video)));
      ++out_it;
    }
    if (!a.identical) check.problems.push_back("audio stream " + std::to_string(stream) + " is not the source's");
    if (a.sync_error_s > expected.timestamp_tolerance_s + 1e-9) {
      check.problems.push_back("audio stream " + std::to_string(stream) + " is " + std::to_string(a.sync_error_s) +
                               " s out of sync with the video");
    }
    check.audio.push_back(a);
  }
  return check;
}

nlohmann::json OutputCheckJson(const OutputCheck& check) {
  nlohmann::json audio = nlohmann::json::array();
  for (const auto& a : check.audio) {
    audio.push_back({{"source_stream", a.source_stream},
                     {"source_packets", a.source_packets},
                     {"output_packets", a.output_packets},
                     {"identical", a.identical},
                     {"sync_error_s", a.sync_error_s}});
  }
  return {{"ok", check.ok()},
          {"frames", {{"source", check.source_frames}, {"output", check.output_frames}}},
          {"max_timestamp_error_s", check.max_timestamp_error_s},
          {"start_shift_s", check.start_shift_s},
          {"size", std::to_string(check.width) + "x" + std::to_string(check.height)},
          {"codec", check.codec},
          {"pixel_format", check.pixel_format},
          {"rotation", check.rotation},
          {"audio", audio},
          {"problems", check.problems}};
}

}  // namespace tsdsr::video

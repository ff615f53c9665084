// Segments of a clip, encoded apart and joined with the source's audio and subtitles: the output has every frame
// in order with the source's timestamps, audio packets identical to the source's, and the streams the container
// cannot hold converted (SRT into MP4) or reported, the rotation kept. ffprobe (Debian's, independent of our code)
// checks the frame count, the converted cues and the rotation.
#include "video/segment_join.h"

#include <algorithm>
#include <cstdio>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "video/frame_decoder.h"
#include "video/output_check.h"
#include "video/segment_encoder.h"
#include "video/subtitle_convert.h"
#include "video/testing_clips.h"

namespace tsdsr::video {
namespace {

using testing::ClipSpec;
using testing::MakeClip;
using testing::ReadIndex;
using tsdsr::testing::ScratchDir;

// The packets of every stream of `type` in `path`: time in seconds and bytes.
std::vector<std::pair<double, std::string>> PacketsOf(const std::string& path, AVMediaType type) {
  std::vector<std::pair<double, std::string>> packets;
  auto demuxer = Demuxer::OpenFile(path);
  if (!demuxer.ok()) return packets;
  Packet packet = NewPacket();
  while (true) {
    auto more = (*demuxer)->Read(packet.get());
    if (!more.ok() || !*more) break;
    const AVStream* stream = (*demuxer)->context()->streams[packet->stream_index];
    if (stream->codecpar->codec_type != type) continue;
    packets.emplace_back(double(packet->pts) * av_q2d(stream->time_base),
                         std::string(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size)));
  }
  return packets;
}

struct Cue {
  double start_s = 0;
  double duration_s = 0;
  std::string text;  // the ASS text field: what is shown
};

// Every subtitle cue of the first subtitle stream of `path`, decoded by libavcodec; empty cues (MP4's gaps) left out.
std::vector<Cue> CuesOf(const std::string& path) {
  std::vector<Cue> cues;
  auto demuxer = Demuxer::OpenFile(path);
  if (!demuxer.ok()) return cues;
  AVFormatContext* context = (*demuxer)->context();
  const int index = av_find_best_stream(context, AVMEDIA_TYPE_SUBTITLE, -1, -1, nullptr, 0);
  if (index < 0) return cues;
  const AVStream* stream = context->streams[index];
  CodecContext decoder(avcodec_alloc_context3(avcodec_find_decoder(stream->codecpar->codec_id)));
  EXPECT_GE(avcodec_parameters_to_context(decoder.get(), stream->codecpar), 0);
  decoder->pkt_timebase = stream->time_base;
  EXPECT_GE(avcodec_open2(decoder.get(), decoder->codec, nullptr), 0);
  Packet packet = NewPacket();
  while (true) {
    auto more = (*demuxer)->Read(packet.get());
    if (!more.ok() || !*more) break;
    if (packet->stream_index != index) continue;
    AVSubtitle subtitle{};
    int got = 0;
    EXPECT_GE(avcodec_decode_subtitle2(decoder.get(), &subtitle, &got, packet.get()), 0);
    if (got != 0 && subtitle.num_rects > 0 && subtitle.rects[0]->ass != nullptr) {
      std::string ass = subtitle.rects[0]->ass;  // ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text
      size_t field = 0;
      for (int commas = 0; commas < 8 && field != std::string::npos; ++commas) field = ass.find(',', field) + 1;
      cues.push_back({double(packet->pts) * av_q2d(stream->time_base),
                      double(packet->duration) * av_q2d(stream->time_base), ass.substr(field)});
    }
    avsubtitle_free(&subtitle);
  }
  return cues;
}

std::string Output(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
    pclose(pipe);
  }
  return out;
}

class SegmentJoinTest : public ::testing::Test {
 protected:
  // Encodes frames [from, to) of `source` (nearest ×2) into a segment file; its path.
  std::string Segment(const std::string& source, const MediaInfo& info, size_t from, size_t to, int n) {
    const VideoInfo& v = info.video;
    SegmentFormat format{v.width * 2, v.height * 2, v.time_base, v.frame_rate, v.sample_aspect, v.color};
    EncodeOptions options;
    options.codec = codec_;
    const std::string path = dir_.File("segment" + std::to_string(n) + ".mp4");
    auto encoder = SegmentEncoder::Create(options, format, path);
    EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
    auto demuxer = Demuxer::OpenFile(source);
    auto decoder = FrameDecoder::Open(**demuxer, 1);
    EXPECT_TRUE((*decoder)->SeekBefore(v.frames[from].pts).ok());
    Status decoded = (*decoder)->Decode(v.frames[from].pts, v.frames[to - 1].pts, [&](DecodedFrame frame) {
      cv::Mat big;
      cv::resize(frame.bgr, big, cv::Size(), 2, 2, cv::INTER_NEAREST);
      return (*encoder)->Add(big, frame.pts);
    });
    EXPECT_TRUE(decoded.ok()) << decoded.ToString();
    EXPECT_EQ((*encoder)->frames(), static_cast<int>(to - from));
    EXPECT_TRUE((*encoder)->Finish().ok());
    return path;
  }

  // Cuts `source` into segments at `cuts`, joins them into `output`; checks frames, timestamps and audio.
  JoinReport JoinAndCheck(const std::string& source, const std::vector<size_t>& cuts, const std::string& output,
                          const std::string& container) {
    auto info = ProbeFile(source);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    std::vector<std::string> segments;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) segments.push_back(Segment(source, *info, cuts[i], cuts[i + 1], i));
    auto report = JoinSegments(segments, source, output, container);
    auto out = ProbeFile(output);
    if (!report.ok() || !out.ok()) {
      ADD_FAILURE() << report.status().ToString() << "; " << out.status().ToString();
      return {};
    }
    const auto& in_frames = info->video.frames;
    EXPECT_EQ(out->video.frames.size(), in_frames.size());
    for (size_t i = 0; i < std::min(in_frames.size(), out->video.frames.size()); ++i) {
      EXPECT_NEAR(double(out->video.frames[i].pts) * out->video.time_base.value(),
                  double(in_frames[i].pts) * info->video.time_base.value(), 1e-9)
          << "frame " << i;
    }
    auto demuxer = Demuxer::OpenFile(output);
    auto decoder = FrameDecoder::Open(**demuxer, 1);
    std::vector<int> indices;
    EXPECT_TRUE((*decoder)
                    ->Decode(FrameDecoder::kFromStart, FrameDecoder::kToEnd,
                             [&](DecodedFrame f) {
                               indices.push_back(ReadIndex(f.bgr));
                               return Status::Ok();
                             })
                    .ok());
    for (size_t i = 0; i < indices.size(); ++i) EXPECT_EQ(indices[i], static_cast<int>(i));
    const auto source_audio = PacketsOf(source, AVMEDIA_TYPE_AUDIO);
    const auto output_audio = PacketsOf(output, AVMEDIA_TYPE_AUDIO);
    EXPECT_EQ(output_audio.size(), source_audio.size());
    for (size_t i = 0; i < std::min(output_audio.size(), source_audio.size()); ++i) {
      EXPECT_EQ(output_audio[i].second, source_audio[i].second) << "audio packet " << i << " is not the source's";
      // Matroska keeps times in milliseconds: that much apart is the same time.
      EXPECT_NEAR(output_audio[i].first, source_audio[i].first, 0.001) << "audio packet " << i;
    }
    const std::string counted = Output(
        "ffprobe -v error -count_frames -select_streams v -show_entries "
        "stream=nb_read_frames -of csv=p=0 " +
        output);
    EXPECT_EQ(std::stoi(counted), static_cast<int>(in_frames.size())) << "ffprobe: " << counted;
    return *report;
  }

  ScratchDir dir_{"tsdsr-join"};
  std::string codec_ = "hevc";
};

TEST_F(SegmentJoinTest, AnMp4WithAudioJoinedFromThreeSegments) {
  ClipSpec spec;
  spec.frames = 61;
  spec.rate = "30000/1001";
  spec.audio = true;
  spec.gop = 15;
  const std::string source = dir_.File("source.mp4");
  ASSERT_EQ(MakeClip(source, spec), 0);
  JoinReport report = JoinAndCheck(source, {0, 17, 40, 61}, dir_.File("out.mp4"), "mp4");
  ASSERT_EQ(report.streams.size(), 1u);
  EXPECT_TRUE(report.streams[0].kept);
  EXPECT_EQ(report.streams[0].codec, "aac");
  EXPECT_EQ(report.video_packets, 61);
}

TEST_F(SegmentJoinTest, AVariableRateMkvWithSubtitlesInMkvAndInMp4) {
  ClipSpec spec;
  spec.frames = 40;
  spec.variable_rate = true;
  spec.audio = true;
  spec.subtitle = true;
  spec.gop = 10;
  const std::string source = dir_.File("source.mkv");
  ASSERT_EQ(MakeClip(source, spec), 0);
  codec_ = "h264";
  JoinReport mkv = JoinAndCheck(source, {0, 13, 27, 40}, dir_.File("out.mkv"), "matroska");
  ASSERT_EQ(mkv.streams.size(), 2u);
  EXPECT_TRUE(mkv.streams[0].kept && mkv.streams[1].kept) << JoinReportJson(mkv).dump();
  EXPECT_TRUE(mkv.streams[1].converted_to.empty()) << "Matroska holds SRT as it is";
  const std::string out_mp4 = dir_.File("out.mp4");
  JoinReport mp4 = JoinAndCheck(source, {0, 20, 40}, out_mp4, "mp4");
  ASSERT_EQ(mp4.streams.size(), 2u);
  EXPECT_EQ(mp4.streams[1].codec, "subrip");
  EXPECT_TRUE(mp4.streams[1].kept) << "MP4 cannot hold SRT: converted to mov_text";
  EXPECT_EQ(mp4.streams[1].converted_to, "mov_text");
  EXPECT_EQ(JoinReportJson(mp4)["streams"][1]["converted_to"], "mov_text");
  EXPECT_EQ(mp4.streams[0].codec, "flac");
  EXPECT_TRUE(mp4.streams[0].kept);

  // The same cues, at the same times, with the same texts: decoded here, and counted by ffprobe.
  const std::vector<Cue> in_cues = CuesOf(source);
  const std::vector<Cue> out_cues = CuesOf(out_mp4);
  ASSERT_EQ(in_cues.size(), 2u);
  ASSERT_EQ(out_cues.size(), in_cues.size());
  for (size_t i = 0; i < in_cues.size(); ++i) {
    EXPECT_EQ(out_cues[i].text, in_cues[i].text) << "cue " << i;
    EXPECT_NEAR(out_cues[i].start_s, in_cues[i].start_s, 1e-9) << "cue " << i;
    EXPECT_NEAR(out_cues[i].duration_s, in_cues[i].duration_s, 1e-9) << "cue " << i;
  }
  EXPECT_EQ(in_cues[0].text, "first line");
  EXPECT_EQ(Output("ffprobe -v error -select_streams s -show_entries stream=codec_name -of csv=p=0 " + out_mp4),
            "mov_text\n");
  // MP4 fills the gaps between cues with empty samples (2 bytes): the cues are the larger packets.
  EXPECT_EQ(Output("ffprobe -v error -select_streams s -show_entries packet=pts_time,duration_time,size -of csv=p=0 " +
                   out_mp4 + " | awk -F, '$3 > 2 {print $1 \",\" $2}'"),
            "0.000000,0.500000\n0.600000,0.400000\n");

  auto info = ProbeFile(source);
  ASSERT_TRUE(info.ok());
  OutputExpectation expected;
  expected.codec = "h264";
  expected.timestamp_tolerance_s = 0.001;
  auto check = CheckOutput(source, *info, out_mp4, expected);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->ok()) << "a converted subtitle is no problem: " << OutputCheckJson(*check).dump();
}

TEST_F(SegmentJoinTest, AssAndWebVttConvertForMp4BitmapSubtitlesWouldNot) {
  codec_ = "h264";
  for (const std::string codec : {"ass", "webvtt"}) {
    ClipSpec spec;
    spec.frames = 30;
    spec.subtitle = true;
    spec.extra = "-c:s " + codec;  // the last -c:s wins over the SRT default
    const std::string source = dir_.File(codec + ".mkv");
    ASSERT_EQ(MakeClip(source, spec), 0);
    const std::string output = dir_.File(codec + ".mp4");
    JoinReport report = JoinAndCheck(source, {0, 15, 30}, output, "mp4");
    ASSERT_EQ(report.streams.size(), 1u) << codec;
    EXPECT_EQ(report.streams[0].codec, codec);
    EXPECT_TRUE(report.streams[0].kept) << JoinReportJson(report).dump();
    EXPECT_EQ(report.streams[0].converted_to, "mov_text");
    const std::vector<Cue> in_cues = CuesOf(source);
    const std::vector<Cue> out_cues = CuesOf(output);
    ASSERT_EQ(in_cues.size(), 2u) << codec;
    ASSERT_EQ(out_cues.size(), 2u) << codec;
    for (size_t i = 0; i < in_cues.size(); ++i) {
      EXPECT_EQ(out_cues[i].text, in_cues[i].text) << codec << " cue " << i;
      EXPECT_NEAR(out_cues[i].start_s, in_cues[i].start_s, 1e-9) << codec << " cue " << i;
      EXPECT_NEAR(out_cues[i].duration_s, in_cues[i].duration_s, 1e-9) << codec << " cue " << i;
    }
  }
  EXPECT_TRUE(IsDecodableTextSubtitle(AV_CODEC_ID_SUBRIP));
  EXPECT_FALSE(IsDecodableTextSubtitle(AV_CODEC_ID_HDMV_PGS_SUBTITLE)) << "PGS stays dropped from MP4";
  EXPECT_FALSE(IsDecodableTextSubtitle(AV_CODEC_ID_DVB_SUBTITLE));
  EXPECT_FALSE(IsDecodableTextSubtitle(AV_CODEC_ID_AAC));
}

TEST_F(SegmentJoinTest, ARotatedMp4KeepsItsRotation) {
  ClipSpec spec;
  spec.frames = 20;
  spec.gop = 10;
  spec.audio = true;
  spec.rotate = 90;
  const std::string source = dir_.File("rotated.mp4");
  ASSERT_EQ(MakeClip(source, spec), 0);
  auto info = ProbeFile(source);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_EQ(info->video.rotation, 90) << "the clip is made rotated";
  codec_ = "h264";
  const std::string output = dir_.File("out.mp4");
  JoinAndCheck(source, {0, 10, 20}, output, "mp4");
  auto out = ProbeFile(output);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->video.rotation, 90);
  EXPECT_EQ(out->video.width, 2 * info->video.width) << "frames stay in their coded orientation";
  EXPECT_EQ(out->video.height, 2 * info->video.height);
  // ffprobe says the same (its angle counts counterclockwise).
  EXPECT_EQ(Output("ffprobe -v error -select_streams v -show_entries stream_side_data=rotation -of csv=p=0 " + output),
            Output("ffprobe -v error -select_streams v -show_entries stream_side_data=rotation -of csv=p=0 " + source));
  OutputExpectation expected;
  expected.codec = "h264";
  expected.timestamp_tolerance_s = 1e-6;
  auto check = CheckOutput(source, *info, output, expected);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->ok()) << OutputCheckJson(*check).dump();
  EXPECT_EQ(check->rotation, 90);

  // A segment alone (the first half, without a display matrix): the check names the rotation too.
  auto unrotated = CheckOutput(source, *info, dir_.File("segment0.mp4"), expected);
  ASSERT_TRUE(unrotated.ok());
  const auto& problems = unrotated->problems;
  EXPECT_NE(std::find(problems.begin(), problems.end(), "rotation 0, not the source's 90"), problems.end())
      << OutputCheckJson(*unrotated).dump();
}

TEST_F(SegmentJoinTest, TheCheckSaysWhatIsWrongWithAnOutput) {
  ClipSpec spec;
  spec.frames = 30;
  spec.audio = true;
  const std::string source = dir_.File("source.mp4");
  ASSERT_EQ(MakeClip(source, spec), 0);
  auto info = ProbeFile(source);
  ASSERT_TRUE(info.ok());
  const std::string half = Segment(source, *info, 0, 15, 0);  // half the frames, no audio, x2
  OutputExpectation expected;
  expected.scale = 2;
  expected.codec = "h264";
  auto check = CheckOutput(source, *info, half, expected);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_FALSE(check->ok());
  EXPECT_EQ(check->output_frames, 15);
  ASSERT_GE(check->problems.size(), 3u) << OutputCheckJson(*check).dump();
  EXPECT_NE(check->problems[0].find("15 frames"), std::string::npos);
  const std::string all = dir_.File("all.mp4");
  codec_ = "h264";
  ASSERT_TRUE(JoinSegments({Segment(source, *info, 0, 30, 1)}, source, all, "mp4").ok());
  auto good = CheckOutput(source, *info, all, expected);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->ok()) << OutputCheckJson(*good).dump();
  EXPECT_TRUE(good->audio.at(0).identical);
}

TEST_F(SegmentJoinTest, MissingSegmentsAreErrors) {
  EXPECT_EQ(JoinSegments({}, "x", dir_.File("o.mp4"), "mp4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(JoinSegments({dir_.File("none.mp4")}, "x", dir_.File("o.mp4"), "mp4").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace tsdsr::video

// Decoding and encoding together: every frame of a clip comes out of FrameDecoder with its index and timestamp,
// survives a SegmentEncoder round trip in order with the same timestamps, and a range decodes from its keyframe.
#include <fstream>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "video/frame_decoder.h"
#include "video/segment_encoder.h"
#include "video/testing_clips.h"

namespace tsdsr::video {
namespace {

using testing::ClipSpec;
using testing::MakeClip;
using testing::ReadIndex;
using tsdsr::testing::ScratchDir;

struct Decoded {
  std::vector<int> indices;
  std::vector<std::int64_t> pts;
};

Result<Decoded> DecodeAll(Demuxer& demuxer, std::int64_t first = FrameDecoder::kFromStart,
                          std::int64_t last = FrameDecoder::kToEnd) {
  TSDSR_ASSIGN_OR_RETURN(auto decoder, FrameDecoder::Open(demuxer, 1));
  if (first != FrameDecoder::kFromStart) TSDSR_RETURN_IF_ERROR(decoder->SeekBefore(first));
  Decoded out;
  TSDSR_RETURN_IF_ERROR(decoder->Decode(first, last, [&](DecodedFrame frame) {
    out.indices.push_back(ReadIndex(frame.bgr));
    out.pts.push_back(frame.pts);
    return Status::Ok();
  }));
  return out;
}

std::vector<int> Iota(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

class CodecRoundTripTest : public ::testing::Test {
 protected:
  ScratchDir dir_{"tsdsr-codec"};
};

TEST_F(CodecRoundTripTest, EveryFrameDecodesInOrderWithItsTimestamp) {
  ClipSpec spec;
  spec.frames = 40;
  spec.rate = "30000/1001";
  const std::string path = dir_.File("clip.mp4");
  ASSERT_EQ(MakeClip(path, spec), 0);
  auto info = ProbeFile(path);
  ASSERT_TRUE(info.ok());
  auto demuxer = Demuxer::OpenFile(path);
  ASSERT_TRUE(demuxer.ok());
  auto decoded = DecodeAll(**demuxer);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->indices, Iota(0, 40));
  std::vector<std::int64_t> probed;
  for (const auto& f : info->video.frames) probed.push_back(f.pts);
  EXPECT_EQ(decoded->pts, probed);
}

TEST_F(CodecRoundTripTest, ARangeStartsAtTheKeyframeBeforeItAndDropsTheRest) {
  ClipSpec spec;
  spec.frames = 50;
  spec.gop = 10;
  const std::string path = dir_.File("gop.mp4");
  ASSERT_EQ(MakeClip(path, spec), 0);
  auto info = ProbeFile(path);
  ASSERT_TRUE(info.ok());
  const auto& f = info->video.frames;
  auto demuxer = Demuxer::OpenFile(path);
  auto decoded = DecodeAll(**demuxer, f[23].pts, f[36].pts);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->indices, Iota(23, 37));
}

TEST_F(CodecRoundTripTest, SegmentsKeepFramesTimestampsAndTags) {
  for (const char* codec : {"h264", "hevc", "av1"}) {
    SCOPED_TRACE(codec);
    ClipSpec spec;
    spec.frames = 24;
    spec.variable_rate = true;
    const std::string path = dir_.File(std::string("vfr-") + codec + ".mkv");
    ASSERT_EQ(MakeClip(path, spec), 0);
    auto info = ProbeFile(path);
    ASSERT_TRUE(info.ok());
    const VideoInfo& v = info->video;
    EncodeOptions options;
    options.codec = codec;
    options.container = "mp4";
    SegmentFormat format{v.width * 2, v.height * 2, v.time_base, v.frame_rate, v.sample_aspect, v.color};
    format.color.space = 1;  // BT.709 tags, to see them carried
    format.color.primaries = 1;
    format.color.transfer = 1;
    auto encoder = SegmentEncoder::Create(options, format, "");
    ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
    auto demuxer = Demuxer::OpenFile(path);
    auto decoder = FrameDecoder::Open(**demuxer, 1);
    ASSERT_TRUE(decoder.ok());
    ASSERT_TRUE((*decoder)
                    ->Decode(FrameDecoder::kFromStart, FrameDecoder::kToEnd,
                             [&](DecodedFrame frame) {
                               cv::Mat big;
                               cv::resize(frame.bgr, big, cv::Size(), 2, 2, cv::INTER_NEAREST);
                               return (*encoder)->Add(big, frame.pts);
                             })
                    .ok());
    auto bytes = (*encoder)->Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    const std::string segment = dir_.File(std::string("segment-") + codec + ".mp4");
    std::ofstream(segment, std::ios::binary) << *bytes;
    auto out = ProbeFile(segment);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->video.codec, codec);
    EXPECT_EQ(out->video.width, v.width * 2);
    EXPECT_EQ(out->video.pixel_format, "yuv420p");
    EXPECT_EQ(out->video.color.space, 1);
    EXPECT_EQ(out->video.color.primaries, 1);
    EXPECT_TRUE(out->video.frames.front().key);
    ASSERT_EQ(out->video.frames.size(), 24u);
    for (size_t i = 0; i < 24; ++i) {
      const double in_s = double(v.frames[i].pts) * v.time_base.value();
      const double out_s = double(out->video.frames[i].pts) * out->video.time_base.value();
      EXPECT_NEAR(out_s, in_s, 1e-9) << "frame " << i;
    }
    auto reread = Demuxer::OpenBytes(*bytes, "segment");
    ASSERT_TRUE(reread.ok());
    auto again = DecodeAll(**reread);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->indices, Iota(0, 24)) << "each frame still says which it is";
  }
}

TEST_F(CodecRoundTripTest, BadOptionsAreRefused) {
  EncodeOptions options;
  options.codec = "mpeg2";
  EXPECT_EQ(ValidateEncodeOptions(options).code(), StatusCode::kInvalidArgument);
  options = EncodeOptions{};
  options.crf = 60;
  EXPECT_EQ(ValidateEncodeOptions(options).code(), StatusCode::kInvalidArgument);
  options.codec = "av1";
  EXPECT_TRUE(ValidateEncodeOptions(options).ok());
  options.container = "avi";
  EXPECT_EQ(ValidateEncodeOptions(options).code(), StatusCode::kInvalidArgument);
  options = EncodeOptions{};
  options.preset = "fast; rm -rf";
  EXPECT_EQ(ValidateEncodeOptions(options).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tsdsr::video

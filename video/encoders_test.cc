// The encoder table, and the probe of what encodes here agreeing with what SegmentEncoder does: an encoder the
// probe announces makes a segment that decodes frame for frame; one it leaves out (NVENC without a GPU that has
// it) is refused with FailedPrecondition, a fault of the machine and not of the job.
#include "video/encoders.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "video/frame_decoder.h"
#include "video/segment_encoder.h"
#include "video/testing_clips.h"

namespace tsdsr::video {
namespace {

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Encodes `frames` index frames of 128×96 with `options`; the segment's decoded indices, or the error.
Result<std::vector<int>> EncodeAndDecode(const EncodeOptions& options, int frames) {
  SegmentFormat format;
  format.width = 128;
  format.height = 96;
  TSDSR_ASSIGN_OR_RETURN(auto encoder, SegmentEncoder::Create(options, format, ""));
  for (int i = 0; i < frames; ++i) TSDSR_RETURN_IF_ERROR(encoder->Add(testing::IndexFrame(i, 128, 96), i));
  TSDSR_ASSIGN_OR_RETURN(std::string segment, encoder->Finish());
  TSDSR_ASSIGN_OR_RETURN(auto demuxer, Demuxer::OpenBytes(segment, "segment"));
  TSDSR_ASSIGN_OR_RETURN(auto decoder, FrameDecoder::Open(*demuxer, 1));
  std::vector<int> indices;
  TSDSR_RETURN_IF_ERROR(decoder->Decode(FrameDecoder::kFromStart, FrameDecoder::kToEnd, [&](DecodedFrame frame) {
    indices.push_back(testing::ReadIndex(frame.bgr));
    return Status::Ok();
  }));
  return indices;
}

TEST(EncodersTest, EveryCodecHasASoftwareAndAnNvencEncoder) {
  for (const char* codec : {"h264", "hevc", "av1"}) {
    const EncoderSpec* software = FindEncoder(codec, EncoderFamily::kSoftware);
    const EncoderSpec* nvenc = FindEncoder(codec, EncoderFamily::kNvenc);
    ASSERT_NE(software, nullptr) << codec;
    ASSERT_NE(nvenc, nullptr) << codec;
    EXPECT_EQ(software->quality, "crf");
    EXPECT_EQ(nvenc->quality, "cq");
    EXPECT_NE(nvenc->ffmpeg.find("_nvenc"), std::string_view::npos);
  }
  EXPECT_EQ(FindEncoder("mpeg2", EncoderFamily::kSoftware), nullptr);
  EXPECT_EQ(EncoderFamilyFromName("nvenc"), EncoderFamily::kNvenc);
  EXPECT_EQ(EncoderFamilyName(EncoderFamily::kSoftware), "software");
  EXPECT_FALSE(EncoderFamilyFromName("auto").has_value());
}

TEST(EncodersTest, CudaIndexOfDeviceNames) {
  EXPECT_EQ(CudaIndexOf("cuda"), 0);
  EXPECT_EQ(CudaIndexOf("cuda:3"), 3);
  EXPECT_EQ(CudaIndexOf("cuda:12"), 12);
  EXPECT_EQ(CudaIndexOf("cpu"), -1);
  EXPECT_EQ(CudaIndexOf("cuda:"), -1);
  EXPECT_EQ(CudaIndexOf("cuda:x"), -1);
  EXPECT_EQ(CudaIndexOf("cuda:99999"), -1);
}

TEST(EncodersTest, WorkersThatAnnounceNothingHaveTheSoftwareEncodersOnly) {
  EXPECT_TRUE(HasEncoder({}, "libx265"));
  EXPECT_FALSE(HasEncoder({}, "hevc_nvenc"));
  EXPECT_TRUE(HasEncoder({"hevc_nvenc"}, "hevc_nvenc"));
  EXPECT_FALSE(HasEncoder({"hevc_nvenc"}, "libx265"));
}

TEST(EncodersTest, WithoutAGpuOnlyTheSoftwareEncodersAreUsable) {
  const auto usable = UsableEncoders(-1);
  EXPECT_EQ(usable, (std::vector<std::string>{"libx264", "libx265", "libsvtav1"}));
}

// Whatever this machine is, the probe of CUDA device 0 and SegmentEncoder agree on every NVENC encoder.
TEST(EncodersTest, TheProbeOfDeviceZeroAgreesWithTheEncoder) {
  const auto usable = UsableEncoders(0);
  for (const EncoderSpec& spec : AllEncoders()) {
    if (spec.family != EncoderFamily::kNvenc) continue;
    EncodeOptions options;
    options.codec = std::string(spec.codec);
    options.encoder = "nvenc";
    options.gpu = 0;
    auto indices = EncodeAndDecode(options, 12);
    if (Contains(usable, spec.ffmpeg)) {
      ASSERT_TRUE(indices.ok()) << spec.ffmpeg << ": " << indices.status().ToString();
      std::vector<int> expected(12);
      for (int i = 0; i < 12; ++i) expected[static_cast<size_t>(i)] = i;
      EXPECT_EQ(*indices, expected) << spec.ffmpeg;
    } else {
      ASSERT_FALSE(indices.ok()) << spec.ffmpeg << " encoded although the probe left it out";
      EXPECT_EQ(indices.status().code(), StatusCode::kFailedPrecondition) << indices.status().ToString();
      EXPECT_NE(indices.status().message().find(std::string(spec.ffmpeg)), std::string::npos);
    }
  }
}

TEST(EncodersTest, NvencSettingsAreCheckedLikeTheOthers) {
  EncodeOptions options;
  options.encoder = "nvenc";
  options.codec = "hevc";
  options.crf = 51;
  options.preset = "p7";
  EXPECT_TRUE(ValidateEncodeOptions(options).ok());
  options.crf = 52;
  EXPECT_EQ(ValidateEncodeOptions(options).code(), StatusCode::kInvalidArgument);
  options.crf = -1;
  options.encoder = "vaapi";
  EXPECT_EQ(ValidateEncodeOptions(options).code(), StatusCode::kInvalidArgument);
  options.encoder = "software";
  options.codec = "av1";
  options.crf = 63;
  EXPECT_TRUE(ValidateEncodeOptions(options).ok());
}

}  // namespace
}  // namespace tsdsr::video

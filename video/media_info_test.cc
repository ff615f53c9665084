#include "video/media_info.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "video/testing_clips.h"

namespace tsdsr::video {
namespace {

using testing::ClipSpec;
using testing::MakeClip;
using tsdsr::testing::ScratchDir;

class MediaInfoTest : public ::testing::Test {
 protected:
  std::string Clip(const std::string& name, const ClipSpec& spec) {
    const std::string path = dir_.File(name);
    EXPECT_EQ(MakeClip(path, spec), 0) << name;
    return path;
  }
  ScratchDir dir_{"tsdsr-probe"};
};

TEST_F(MediaInfoTest, AConstantRateMp4WithAudio) {
  ClipSpec spec;
  spec.frames = 37;
  spec.audio = true;
  auto info = ProbeFile(Clip("a.mp4", spec));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->container.find("mp4") != std::string::npos, true) << info->container;
  const VideoInfo& v = info->video;
  EXPECT_EQ(v.codec, "h264");
  EXPECT_EQ(v.width, 96);
  EXPECT_EQ(v.height, 64);
  EXPECT_EQ(v.frames.size(), 37u) << "counted from packets, exactly";
  EXPECT_EQ(v.frame_rate, (Rational{25, 1}));
  EXPECT_FALSE(v.variable_rate);
  EXPECT_EQ(v.pixel_format, "yuv420p");
  EXPECT_NEAR(v.duration_s(), 37 / 25.0, 1e-6);
  EXPECT_TRUE(v.frames.front().key);
  EXPECT_TRUE(std::is_sorted(v.frames.begin(), v.frames.end(),
                             [](const FrameTime& a, const FrameTime& b) { return a.pts < b.pts; }));
  int audio = 0;
  for (const auto& s : info->streams) audio += s.type == "audio" ? 1 : 0;
  EXPECT_EQ(audio, 1);
  EXPECT_EQ(MediaInfoJson(*info)["video"]["frames"], 37);
}

TEST_F(MediaInfoTest, NtscRateVariableRateAndKeyframes) {
  ClipSpec ntsc;
  ntsc.rate = "30000/1001";
  ntsc.frames = 31;
  ntsc.gop = 10;
  auto a = ProbeFile(Clip("ntsc.mp4", ntsc));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->video.frame_rate, (Rational{30000, 1001}));
  int keys = 0;
  for (const auto& f : a->video.frames) keys += f.key ? 1 : 0;
  EXPECT_EQ(keys, 4) << "frames 0, 10, 20, 30";

  ClipSpec vfr;
  vfr.variable_rate = true;
  vfr.frames = 20;
  auto b = ProbeFile(Clip("vfr.mkv", vfr));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->video.variable_rate);
  ASSERT_EQ(b->video.frames.size(), 20u);
  EXPECT_EQ(b->video.frames[1].pts - b->video.frames[0].pts, 50) << "1/1000 time base: 0, 50, 100, 120, ...";
}

TEST_F(MediaInfoTest, AnMkvWithSubtitlesAndHevc) {
  ClipSpec spec;
  spec.codec = "libx265";
  spec.audio = true;
  spec.subtitle = true;
  spec.frames = 25;
  auto info = ProbeFile(Clip("s.mkv", spec));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->video.codec, "hevc");
  std::vector<std::string> types;
  for (const auto& s : info->streams) types.push_back(s.type + ":" + s.codec);
  EXPECT_EQ(types, (std::vector<std::string>{"video:hevc", "audio:flac", "subtitle:subrip"}));
}

TEST_F(MediaInfoTest, WhatIsNotAVideoIsRefusedClearly) {
  EXPECT_EQ(ProbeFile(dir_.File("missing.mp4")).status().code(), StatusCode::kNotFound);
  std::ofstream(dir_.File("text.mp4")) << "hello, this is not a video at all";
  EXPECT_EQ(ProbeFile(dir_.File("text.mp4")).status().code(), StatusCode::kInvalidArgument);
  std::ofstream(dir_.File("empty.mp4"));
  EXPECT_EQ(ProbeFile(dir_.File("empty.mp4")).status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(std::system(("ffmpeg -hide_banner -loglevel error -y -f lavfi -i sine=d=1 " + dir_.File("a.m4a")).c_str()),
            0);
  auto audio_only = ProbeFile(dir_.File("a.m4a"));
  EXPECT_EQ(audio_only.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(audio_only.status().message().find("no video stream"), std::string::npos);
  ClipSpec spec;
  const std::string whole = Clip("whole.mp4", spec);
  std::ifstream in(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir_.File("cut.mp4"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto cut = ProbeFile(dir_.File("cut.mp4"));
  EXPECT_FALSE(cut.ok()) << "a truncated MP4 (its index at the end is gone)";
}

}  // namespace
}  // namespace tsdsr::video

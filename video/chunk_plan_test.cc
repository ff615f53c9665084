#include "video/chunk_plan.h"

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "video/chunk_source.h"
#include "video/frame_decoder.h"
#include "video/testing_clips.h"

namespace tsdsr::video {
namespace {

// `n` frames at 25 fps (time base 1/25) with a keyframe every `gop`.
VideoInfo Frames(size_t n, size_t gop) {
  VideoInfo v;
  v.time_base = {1, 25};
  for (size_t i = 0; i < n; ++i) v.frames.push_back({static_cast<std::int64_t>(i), 1, i % gop == 0});
  return v;
}

void ExpectCoverage(const std::vector<ChunkRange>& chunks, size_t n) {
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().first, 0u);
  EXPECT_EQ(chunks.back().last, n - 1);
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_EQ(chunks[i].first, chunks[i - 1].last + 1);
}

TEST(ChunkPlanTest, ChunksOfAboutTheAskedLengthCoveringEveryFrameOnce) {
  const VideoInfo v = Frames(250, 250);  // 10 s, one keyframe
  auto chunks = PlanChunks(v, 2.0, 1);
  ASSERT_EQ(chunks.size(), 5u);
  ExpectCoverage(chunks, 250);
  for (const auto& c : chunks) EXPECT_EQ(c.frames(), 50u);
}

TEST(ChunkPlanTest, EveryWorkerGetsAsManyChunksButNoneIsTiny) {
  const VideoInfo v = Frames(100, 100);  // 4 s
  EXPECT_EQ(PlanChunks(v, 10.0, 1).size(), 1u);
  EXPECT_EQ(PlanChunks(v, 10.0, 4).size(), 4u);
  EXPECT_EQ(PlanChunks(v, 1.0, 3).size(), 6u) << "4 chunks of 1 s over 3 workers: 6, two each";
  EXPECT_EQ(PlanChunks(v, 1.0, 2).size(), 4u);
  EXPECT_EQ(PlanChunks(Frames(250, 250), 1.0, 4).size(), 12u) << "10 s: 12, not 4 + 4 + 2";
  auto many = PlanChunks(v, 10.0, 64);
  EXPECT_EQ(many.size(), 100 / kMinChunkFrames);
  ExpectCoverage(many, 100);
  auto one = PlanChunks(Frames(5, 5), 0.01, 8);
  ASSERT_EQ(one.size(), 1u) << "too few frames to split";
  EXPECT_EQ(one[0], (ChunkRange{0, 4}));
  EXPECT_TRUE(PlanChunks(VideoInfo{}, 2.0, 2).empty());
}

TEST(ChunkPlanTest, CutsMoveToANearbyKeyframe) {
  const VideoInfo v = Frames(200, 48);  // keyframes at 0, 48, 96, 144, 192
  auto chunks = PlanChunks(v, 2.0, 1);  // 4 chunks of 50: cuts near 50, 100, 150
  ASSERT_EQ(chunks.size(), 4u);
  ExpectCoverage(chunks, 200);
  EXPECT_EQ(chunks[1].first, 48u) << "2 frames away: moved";
  EXPECT_EQ(chunks[2].first, 96u) << "4 frames away: moved";
  EXPECT_EQ(chunks[3].first, 150u) << "6 frames away, more than a tenth of a chunk: kept";
  EXPECT_EQ(KeyframeBefore(v, 100), 96u);
  EXPECT_EQ(KeyframeBefore(v, 47), 0u);
}

// Decodes chunk `range` of `path` and checks it holds exactly those frames with the source's timestamps.
void ExpectChunk(const std::string& path, const VideoInfo& v, const ChunkRange& range) {
  SCOPED_TRACE(path + " " + std::to_string(range.first) + ".." + std::to_string(range.last));
  auto bytes = ExtractChunk(path, v, range);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto demuxer = Demuxer::OpenBytes(*bytes, "chunk");
  ASSERT_TRUE(demuxer.ok()) << demuxer.status().ToString();
  EXPECT_EQ((*demuxer)->context()->nb_streams, 1u) << "video only";
  auto decoder = FrameDecoder::Open(**demuxer, 1, v.time_base);
  ASSERT_TRUE(decoder.ok());
  std::vector<int> indices;
  std::vector<std::int64_t> pts;
  ASSERT_TRUE((*decoder)
                  ->Decode(v.frames[range.first].pts, v.frames[range.last].pts,
                           [&](DecodedFrame f) {
                             indices.push_back(testing::ReadIndex(f.bgr));
                             pts.push_back(f.pts);
                             return Status::Ok();
                           })
                  .ok());
  ASSERT_EQ(indices.size(), range.frames());
  for (size_t i = 0; i < indices.size(); ++i) {
    EXPECT_EQ(indices[i], static_cast<int>(range.first + i));
    EXPECT_EQ(pts[i], v.frames[range.first + i].pts) << "the source's own timestamps, exactly";
  }
}

TEST(ChunkSourceTest, EachChunkDecodesExactlyItsFrames) {
  tsdsr::testing::ScratchDir dir("tsdsr-chunk");
  testing::ClipSpec ntsc;
  ntsc.frames = 45;
  ntsc.rate = "30000/1001";
  ntsc.gop = 12;
  ntsc.audio = true;
  testing::ClipSpec vfr;
  vfr.frames = 45;
  vfr.variable_rate = true;
  vfr.codec = "libx265";
  vfr.gop = 12;
  for (const auto& [name, spec] : {std::make_pair("clip.mp4", ntsc), std::make_pair("vfr.mkv", vfr)}) {
    const std::string path = dir.File(name);
    ASSERT_EQ(testing::MakeClip(path, spec), 0);
    auto info = ProbeFile(path);
    ASSERT_TRUE(info.ok());
    for (const ChunkRange range : {ChunkRange{0, 10}, ChunkRange{11, 29}, ChunkRange{30, 44}, ChunkRange{17, 17}}) {
      ExpectChunk(path, info->video, range);
    }
    EXPECT_EQ(ExtractChunk(path, info->video, {40, 50}).status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tsdsr::video

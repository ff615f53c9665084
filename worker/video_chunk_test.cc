// A chunk through the worker's chunk runner with a real model (bicubic): exactly its frames, in order, with the
// source's timestamps, at the scale asked; wrong chunks and cancellation are errors with their codes.
#include "worker/video_chunk.h"

#include <fstream>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "video/chunk_source.h"
#include "video/frame_decoder.h"
#include "video/testing_clips.h"
#include "worker/model_factory.h"

namespace tsdsr::worker {
namespace {

class VideoChunkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    video::testing::ClipSpec spec;
    spec.frames = 30;
    spec.rate = "30000/1001";
    spec.gop = 10;
    source_ = dir_.File("clip.mp4");
    ASSERT_EQ(video::testing::MakeClip(source_, spec), 0);
    auto info = video::ProbeFile(source_);
    ASSERT_TRUE(info.ok());
    video_ = info->video;
    ModelOptions options;
    options.flags.spec = "bicubic";
    auto upscaler = CreateUpscaler(options);
    ASSERT_TRUE(upscaler.ok()) << upscaler.status().ToString();
    upscaler_ = std::move(*upscaler);
  }

  proto::JobHeader Job(const video::ChunkRange& range) const {
    proto::JobHeader job;
    job.job_id = 5;
    job.kind = std::string(proto::kVideoChunkJob);
    job.scale = 2;
    job.process_size = 64;
    job.first_pts = video_.frames[range.first].pts;
    job.last_pts = video_.frames[range.last].pts;
    job.frames = static_cast<int>(range.frames());
    job.codec = "h264";
    job.tb_num = video_.time_base.num;
    job.tb_den = video_.time_base.den;
    job.rate_num = video_.frame_rate.num;
    job.rate_den = video_.frame_rate.den;
    return job;
  }

  tsdsr::testing::ScratchDir dir_{"tsdsr-chunk-run"};
  std::string source_;
  video::VideoInfo video_;
  std::unique_ptr<Upscaler> upscaler_;
};

TEST_F(VideoChunkTest, MakesASegmentOfExactlyItsFrames) {
  const video::ChunkRange range{13, 24};
  auto chunk = video::ExtractChunk(source_, video_, range);
  ASSERT_TRUE(chunk.ok());
  std::vector<std::pair<int, int>> progress;
  JobReply reply = RunVideoChunk(upscaler_.get(), "", Job(range), *chunk, 0, nullptr,
                                 [&](int done, int total) { progress.emplace_back(done, total); });
  ASSERT_EQ(reply.header.status, "ok") << reply.header.error;
  EXPECT_EQ(reply.header.frames, 12);
  EXPECT_EQ(reply.header.output_width, 192);
  EXPECT_EQ(reply.header.content_type, "video/mp4");
  ASSERT_EQ(progress.size(), 12u);
  EXPECT_EQ(progress.back(), std::make_pair(12, 12));
  const std::string segment = dir_.File("segment.mp4");
  std::ofstream(segment, std::ios::binary) << reply.image;
  auto info = video::ProbeFile(segment);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->video.width, 192);
  ASSERT_EQ(info->video.frames.size(), 12u);
  auto demuxer = video::Demuxer::OpenFile(segment);
  auto decoder = video::FrameDecoder::Open(**demuxer, 1, video_.time_base);
  std::vector<int> indices;
  std::vector<std::int64_t> pts;
  ASSERT_TRUE((*decoder)
                  ->Decode(video::FrameDecoder::kFromStart, video::FrameDecoder::kToEnd,
                           [&](video::DecodedFrame f) {
                             indices.push_back(video::testing::ReadIndex(f.bgr));
                             pts.push_back(f.pts);
                             return Status::Ok();
                           })
                  .ok());
  for (size_t i = 0; i < indices.size(); ++i) {
    EXPECT_EQ(indices[i], static_cast<int>(13 + i));
    EXPECT_EQ(pts[i], video_.frames[13 + i].pts);
  }
}

TEST_F(VideoChunkTest, WrongChunksAndCancellationAreErrors) {
  auto chunk = video::ExtractChunk(source_, video_, {0, 9});
  ASSERT_TRUE(chunk.ok());
  proto::JobHeader job = Job({0, 9});
  job.frames = 11;  // the range holds 10
  EXPECT_EQ(RunVideoChunk(upscaler_.get(), "", job, *chunk, 0, nullptr, nullptr).header.status, "invalid_argument");
  EXPECT_EQ(RunVideoChunk(upscaler_.get(), "", Job({0, 9}), "not a video", 0, nullptr, nullptr).header.status,
            "invalid_argument");
  EXPECT_EQ(RunVideoChunk(upscaler_.get(), "", Job({0, 9}), *chunk, 1000, nullptr, nullptr).header.status,
            "invalid_argument")
      << "over --max-pixels once upscaled";
  EXPECT_EQ(RunVideoChunk(
                upscaler_.get(), "", Job({0, 9}), *chunk, 0, [] { return true; }, nullptr)
                .header.status,
            "cancelled");
  EXPECT_EQ(RunVideoChunk(nullptr, "no weights", Job({0, 9}), *chunk, 0, nullptr, nullptr).header.status,
            "failed_precondition");
}

}  // namespace
}  // namespace tsdsr::worker

#include "dispatcher/jobs/video_job.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

WorkerView Worker(std::vector<std::string> encoders, std::string status = "ok") {
  WorkerView w;
  w.description.status = std::move(status);
  w.description.encoders = std::move(encoders);
  return w;
}

JobSpec Spec(std::string encoder, std::string codec = "hevc", int crf = -1) {
  JobSpec spec;
  spec.encoder = std::move(encoder);
  spec.codec = std::move(codec);
  spec.crf = crf;
  return spec;
}

const std::vector<std::string> kCpu = {"libx264", "libx265", "libsvtav1"};
const std::vector<std::string> kGpu = {"libx264", "libx265", "libsvtav1", "h264_nvenc", "hevc_nvenc"};

TEST(ChooseEncoderTest, AutoIsNvencOnlyWhenEveryReadyWorkerHasIt) {
  EXPECT_EQ(*ChooseEncoder(Spec("auto"), {Worker(kGpu), Worker(kGpu)}), "nvenc");
  EXPECT_EQ(*ChooseEncoder(Spec("auto"), {Worker(kGpu), Worker(kCpu)}), "software");
  EXPECT_EQ(*ChooseEncoder(Spec("auto"), {Worker(kGpu), Worker({}, "error")}), "nvenc") << "a failed worker is no one";
  EXPECT_EQ(*ChooseEncoder(Spec("auto"), {}), "software") << "nothing ready: software, which every worker has";
  EXPECT_EQ(*ChooseEncoder(Spec("auto", "av1"), {Worker(kGpu)}), "software") << "no av1_nvenc in this FFmpeg";
  EXPECT_EQ(*ChooseEncoder(Spec("auto", "hevc", 55), {Worker(kGpu)}), "software") << "cq stops at 51";
  EXPECT_EQ(*ChooseEncoder(Spec("", "h264"), {Worker(kGpu)}), "nvenc") << "empty is auto";
}

TEST(ChooseEncoderTest, AskedForFamiliesAreKeptOrRefusedWithTheReason) {
  EXPECT_EQ(*ChooseEncoder(Spec("software"), {Worker(kGpu)}), "software");
  EXPECT_EQ(*ChooseEncoder(Spec("nvenc"), {Worker(kGpu), Worker(kCpu)}), "nvenc");
  EXPECT_EQ(*ChooseEncoder(Spec("nvenc"), {}), "nvenc") << "waits for a worker that has it";
  auto refused = ChooseEncoder(Spec("nvenc"), {Worker(kCpu)});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("hevc_nvenc"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace tsdsr::dispatcher

// --model torchscript:PATH --model-scale S end to end: a dispatcher and a real worker serve a tiny TorchScript
// file (saved by tsdsr_torchscript_model_writer), and a file of the wrong scale is shown, not served.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/harness.h"
#include "worker/nearest_conv_reference.h"

namespace tsdsr::testing {
namespace {

// Saves the writer's model `kind` (e.g. "nearest-conv-x2") in `dir`; returns its path.
std::string WriteModel(const TempDir& dir, const std::string& kind) {
  std::string path = dir.File(kind + ".pt");
  const std::string command = std::string(TSDSR_TORCHSCRIPT_MODEL_WRITER) + " " + kind + " " + path;
  EXPECT_EQ(RunCommand(command), 0) << command;
  return path;
}

TEST(TorchscriptE2eTest, ServesATorchScriptFile) {
  TempDir dir;
  const std::string path = WriteModel(dir, "nearest-conv-x2");
  auto cluster = Cluster::Start(1, {"--device", "cpu", "--model", "torchscript:" + path, "--model-scale", "2"});
  ASSERT_NE(cluster, nullptr);
  auto info = cluster->GetJson("/info");
  ASSERT_EQ(info["workers"].size(), 1u);
  EXPECT_EQ(info["workers"][0]["model_name"], "torchscript:nearest-conv-x2.pt") << info.dump();
  // One tile, then 3×2 tiles of 64 pixels.
  for (const cv::Size size : {cv::Size(40, 30), cv::Size(150, 90)}) {
    SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height));
    const cv::Mat input = TestImage(size.width, size.height);
    auto r = cluster->http().PostRaw("/upscale?upscale=2&process_size=64", "image/png", EncodePng(input));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->headers["x-output-size"], std::to_string(size.width * 2) + "x" + std::to_string(size.height * 2));
    const cv::Mat output = DecodeBytes(r->body);
    EXPECT_EQ(MaxAbsDiff(output, worker::NearestConvOpenCv(input, 2)), 0);  // the model's bias avoids rounding ties
  }
  auto r = cluster->http().PostRaw("/upscale?upscale=4", "image/png", EncodePng(TestImage(8, 8)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("upscale must be one of 2"), std::string::npos) << r->body;
}

TEST(TorchscriptE2eTest, AModelOfTheWrongScaleIsShownNotServed) {
  TempDir dir;
  const std::string path = WriteModel(dir, "nearest-conv-x2");
  std::string error;
  auto cluster = Cluster::StartWithFailedModel(
      {"--device", "cpu", "--model", "torchscript:" + path, "--model-scale", "4"}, &error);
  ASSERT_NE(cluster, nullptr);
  EXPECT_NE(error.find("torchscript model " + path + " turns 1x3x16x16 into 1x3x32x32, not 4x (--model-scale 4)"),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace tsdsr::testing

// --model torchscript:PATH --model-scale S end to end: a dispatcher and a real worker serve a tiny TorchScript
// file (saved by tsdsr_torchscript_model_writer), and a file of the wrong scale is shown, not served.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

// Saves the writer's model `kind` (e.g. "nearest-conv-x2") in `dir`; returns its path.
std::string WriteModel(const TempDir& dir, const std::string& kind) {
  std::string path = dir.File(kind + ".pt");
  const std::string command = std::string(TSDSR_TORCHSCRIPT_MODEL_WRITER) + " " + kind + " " + path;
  EXPECT_EQ(RunCommand(command), 0) << command;
  return path;
}

// What nearest-conv-xS computes, with OpenCV on 8-bit BGR: nearest ×S, then per channel the 3×3 kernel
// [[0, 1, 0], [1, 4, 1], [0, 1, 0]] / 8 times the channel's gain (R 1, G 0.5, B 0.25) with zero borders, plus
// its bias (R 30.3, G 20.3, B 10.3 grey levels) (worker/model/torchscript_model_fixtures.h); rounded to 8 bits.
cv::Mat NearestConvOpenCv(const cv::Mat& bgr, int scale) {
  cv::Mat image;
  bgr.convertTo(image, CV_32FC3, 1.0 / 255);
  cv::resize(image, image, cv::Size(bgr.cols * scale, bgr.rows * scale), 0, 0, cv::INTER_NEAREST);
  std::vector<cv::Mat> channels;
  cv::split(image, channels);
  const cv::Mat kernel = (cv::Mat_<float>(3, 3) << 0, 1, 0, 1, 4, 1, 0, 1, 0) / 8;
  const double gain[3] = {0.25, 0.5, 1.0};
  const double bias[3] = {10.3 / 255, 20.3 / 255, 30.3 / 255};
  for (int c = 0; c < 3; ++c) {
    cv::filter2D(channels[c], channels[c], -1, cv::Mat(kernel * gain[c]), cv::Point(-1, -1), bias[c],
                 cv::BORDER_CONSTANT);
  }
  cv::merge(channels, image);
  cv::Mat out;
  image.convertTo(out, CV_8UC3, 255.0);
  return out;
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
    EXPECT_EQ(MaxAbsDiff(output, NearestConvOpenCv(input, 2)), 0);  // the model's bias avoids rounding ties
  }
  auto r = cluster->http().PostRaw("/upscale?upscale=4", "image/png", EncodePng(TestImage(8, 8)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("upscale must be one of 2"), std::string::npos) << r->body;
}

TEST(TorchscriptE2eTest, AModelOfTheWrongScaleIsShownNotServed) {
  TempDir dir;
  const std::string path = WriteModel(dir, "nearest-conv-x2");
  ClusterOptions options;
  options.workers = 1;
  options.wait_for_ready = 0;
  options.flags = {"--device", "cpu", "--model", "torchscript:" + path, "--model-scale", "4"};
  auto cluster = Cluster::Start(options);
  ASSERT_NE(cluster, nullptr);
  nlohmann::json health;
  long status = 0;
  for (int i = 0; i < 400; ++i) {
    health = cluster->GetJson("/health", &status);
    if (health["workers"]["total"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 503);
  EXPECT_EQ(health["status"], "unavailable");
  auto info = cluster->GetJson("/info");
  ASSERT_EQ(info["workers"].size(), 1u);
  EXPECT_EQ(info["workers"][0]["status"], "error");
  EXPECT_NE(info["workers"][0]["error"].get<std::string>().find(
                "torchscript model " + path + " turns 1x3x16x16 into 1x3x32x32, not 4x (--model-scale 4)"),
            std::string::npos)
      << info["workers"][0]["error"];
}

}  // namespace
}  // namespace tsdsr::testing

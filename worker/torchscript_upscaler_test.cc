// torchscript:PATH models through CreateUpscaler, as the worker builds them: a tiny TorchScript file built in
// C++ (worker/model/torchscript_model_fixtures.h) upscales real images, tiled, to what OpenCV computes.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "worker/model/tfjs_test_files.h"
#include "worker/model/torchscript_model_fixtures.h"
#include "worker/model_factory.h"
#include "worker/nearest_conv_reference.h"

namespace tsdsr::worker {
namespace {

cv::Mat NoiseImage(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::RNG rng(width * 31 + height);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  return image;
}

double MaxDiff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size()) return 1e9;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  double max = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &max);
  return max;
}

class TorchscriptUpscalerTest : public ::testing::Test {
 protected:
  // Saves `module` as dir_/name and returns ModelOptions for it at `scale`.
  ModelOptions Options(const torch::jit::Module& module, const std::string& name, int scale) {
    module.save(dir_.path() + "/" + name);
    ModelOptions options;
    options.flags.spec = "torchscript:" + dir_.path() + "/" + name;
    options.flags.model_scale = scale;
    return options;
  }

  model::testing::TempDir dir_;
};

TEST_F(TorchscriptUpscalerTest, UpscalesAsOpenCvComputesTiledOrNot) {
  auto upscaler = CreateUpscaler(Options(model::testing::NearestConvModel(2), "x2.pt", 2));
  ASSERT_TRUE(upscaler.ok()) << upscaler.status().message();
  const ModelDescription& description = (*upscaler)->description();
  EXPECT_EQ(description.name, "torchscript:x2.pt");
  EXPECT_EQ(description.scales, std::vector<int>{2});
  EXPECT_EQ(description.dtype, "float32");
  // One tile; then 3×2 tiles of 64, where the guard bands must hide the convolution's zero padding at tile edges.
  for (const cv::Size size : {cv::Size(40, 30), cv::Size(150, 90), cv::Size(1, 1)}) {
    SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height));
    const cv::Mat input = NoiseImage(size.width, size.height);
    UpscaleRequest request;
    request.scale = 2;
    request.process_size = 64;
    auto output = (*upscaler)->Upscale(input, request);
    ASSERT_TRUE(output.ok()) << output.status().message();
    ASSERT_EQ(output->size(), cv::Size(size.width * 2, size.height * 2));
    EXPECT_EQ(MaxDiff(*output, NearestConvOpenCv(input, 2)), 0.0);  // no rounding ties: see NearestConvBias
  }
}

TEST_F(TorchscriptUpscalerTest, OddTilesArePaddedForAModelThatNeedsMultiples) {
  auto upscaler = CreateUpscaler(Options(model::testing::MultipleOfModel(4), "mult4.pt", 2));
  ASSERT_TRUE(upscaler.ok()) << upscaler.status().message();
  const cv::Mat input = NoiseImage(37, 23);  // narrower than process_size: one 37×23 tile
  UpscaleRequest request;
  request.process_size = 64;
  auto output = (*upscaler)->Upscale(input, request);
  ASSERT_TRUE(output.ok()) << output.status().message();
  cv::Mat want;
  cv::resize(input, want, cv::Size(74, 46), 0, 0, cv::INTER_NEAREST);
  EXPECT_EQ(MaxDiff(*output, want), 0.0);
}

TEST_F(TorchscriptUpscalerTest, RefusedAtCreation) {
  ModelOptions options = Options(model::testing::NearestConvModel(2), "x2.pt", 4);
  auto wrong_scale = CreateUpscaler(options);
  EXPECT_EQ(wrong_scale.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong_scale.status().message(),
            "torchscript model " + dir_.path() + "/x2.pt turns 1x3x16x16 into 1x3x32x32, not 4x (--model-scale 4)");
  options.flags.model_scale = 0;
  EXPECT_NE(CreateUpscaler(options).status().message().find("--model-scale"), std::string::npos);
  options.flags.model_scale = 2;
  options.flags.spec = "torchscript:" + dir_.path() + "/absent.pt";
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tsdsr::worker

// The LibTorch model path end to end, through CreateUpscaler as the worker uses it.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ops/upsample_bicubic2d.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "worker/model_factory.h"
#include "worker/torch_upscaler.h"

namespace tsdsr::worker {
namespace {

// `tile_memory_mb` 0: process_size tiles for every model (ModelOptions).
std::unique_ptr<Upscaler> MakeUpscaler(const std::string& spec, int tile_memory_mb = 2048) {
  ModelOptions options;
  options.flags.spec = spec;
  options.tile_memory_mb = tile_memory_mb;
  auto upscaler = CreateUpscaler(options);
  EXPECT_TRUE(upscaler.ok()) << upscaler.status().message();
  return upscaler.ok() ? std::move(*upscaler) : nullptr;
}

// Uniform noise: the worst case for seams and for overshoot past 0 and 255.
cv::Mat NoiseImage(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::RNG rng(width * 7919 + height);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  return image;
}

UpscaleRequest Request(int scale, int process_size) {
  UpscaleRequest request;
  request.scale = scale;
  request.process_size = process_size;
  return request;
}

struct Difference {
  double max = 0;
  double mean = 0;
};

Difference Compare(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  Difference d;
  cv::minMaxLoc(diff.reshape(1), nullptr, &d.max);
  const cv::Scalar mean = cv::mean(diff);
  d.mean = (mean[0] + mean[1] + mean[2]) / 3;
  return d;
}

struct Size {
  int width;
  int height;
};

// 120 and 288 = 8 + 56·k are the sizes where tiles of 64 overlap by exactly the default 8 pixels.
const Size kSizes[] = {{1, 1}, {1, 17}, {17, 1}, {37, 23}, {64, 64}, {65, 64}, {120, 288}, {300, 200}};

TEST(TorchUpscalerTest, TiledBicubicMatchesWholeImageBicubic) {
  for (int memory_mb : {0, 2048}) {  // squares of 64, and the whole image in one call
    std::unique_ptr<Upscaler> upscaler = MakeUpscaler("bicubic", memory_mb);
    ASSERT_NE(upscaler, nullptr);
    for (int scale : {2, 4}) {
      for (const Size& size : kSizes) {
        SCOPED_TRACE("x" + std::to_string(scale) + " " + std::to_string(size.width) + "x" +
                     std::to_string(size.height) + ", " + std::to_string(memory_mb) + " MiB");
        const cv::Mat image = NoiseImage(size.width, size.height);
        auto out = upscaler->Upscale(image, Request(scale, 64));
        ASSERT_TRUE(out.ok()) << out.status().message();
        ASSERT_EQ(out->cols, size.width * scale);
        ASSERT_EQ(out->rows, size.height * scale);
        ASSERT_EQ(out->type(), CV_8UC3);
        cv::Mat reference;
        cv::resize(image, reference, out->size(), 0, 0, cv::INTER_CUBIC);
        const Difference d = Compare(*out, reference);
        EXPECT_LE(d.max, 1) << "mean " << d.mean;  // float vs OpenCV's 8-bit fixed point; no seams
      }
    }
  }
}

TEST(TorchUpscalerTest, TiledLanczosIsCloseToWholeImageLanczos) {
  // Lanczos reaches 4 LR pixels and the default guard band is 2, but its outer lobes are small and the
  // cross-fade weight is near 0 where they matter: measured at most 1 grey level here, as for one tile.
  for (int memory_mb : {0, 2048}) {  // squares of 64, and the whole image in one call
    std::unique_ptr<Upscaler> upscaler = MakeUpscaler("lanczos", memory_mb);
    ASSERT_NE(upscaler, nullptr);
    for (int scale : {2, 4}) {
      for (const Size& size : kSizes) {
        SCOPED_TRACE("x" + std::to_string(scale) + " " + std::to_string(size.width) + "x" +
                     std::to_string(size.height) + ", " + std::to_string(memory_mb) + " MiB");
        const cv::Mat image = NoiseImage(size.width, size.height);
        auto out = upscaler->Upscale(image, Request(scale, 64));
        ASSERT_TRUE(out.ok()) << out.status().message();
        cv::Mat reference;
        cv::resize(image, reference, out->size(), 0, 0, cv::INTER_LANCZOS4);
        const Difference d = Compare(*out, reference);
        EXPECT_LE(d.max, 2);
        EXPECT_LE(d.mean, 0.05);
      }
    }
  }
}

TEST(TorchUpscalerTest, DescribesItself) {
  std::unique_ptr<Upscaler> upscaler = MakeUpscaler("bicubic");
  ASSERT_NE(upscaler, nullptr);
  const ModelDescription& d = upscaler->description();
  EXPECT_EQ(d.name, "bicubic");
  EXPECT_EQ(d.scales, (std::vector<int>{2, 4}));
  EXPECT_EQ(d.dtype, "float32");
  EXPECT_EQ(d.device, "cpu");
  EXPECT_FALSE(d.device_name.empty());
  const proto::MemoryStats memory = upscaler->Memory();
  EXPECT_GT(memory.total, 0);
  EXPECT_GT(memory.allocated, 0);
  EXPECT_EQ(MakeUpscaler("lanczos")->description().name, "lanczos");
}

TEST(TorchUpscalerTest, ReportsProgressAndStopsWhenCancelled) {
  std::unique_ptr<Upscaler> upscaler = MakeUpscaler("bicubic", /*tile_memory_mb=*/0);
  ASSERT_NE(upscaler, nullptr);
  const cv::Mat image = NoiseImage(300, 200);  // 6 × 4 tiles of 64 → 6 batches of 4
  std::vector<std::pair<int, int>> progress;
  UpscaleRequest request = Request(2, 64);
  request.on_progress = [&](int done, int total) { progress.emplace_back(done, total); };
  ASSERT_TRUE(upscaler->Upscale(image, request).ok());
  ASSERT_EQ(progress.size(), 6u);
  EXPECT_EQ(progress.back(), std::make_pair(24, 24));
  progress.clear();
  ASSERT_TRUE(MakeUpscaler("bicubic")->Upscale(image, request).ok());
  EXPECT_EQ(progress, (std::vector<std::pair<int, int>>{{1, 1}})) << "with free tiles: the whole image at once";

  int polls = 0;
  request.cancelled = [&] { return ++polls > 1; };
  EXPECT_EQ(upscaler->Upscale(image, request).status().code(), StatusCode::kCancelled);
}

TEST(TorchUpscalerTest, RejectsBadRequests) {
  std::unique_ptr<Upscaler> upscaler = MakeUpscaler("bicubic");
  ASSERT_NE(upscaler, nullptr);
  const cv::Mat image = NoiseImage(20, 20);
  EXPECT_EQ(upscaler->Upscale(image, Request(3, 64)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(upscaler->Upscale(image, Request(3, 64)).status().message(), "upscale must be one of 2, 4, got 3");
  EXPECT_EQ(upscaler->Upscale(image, Request(2, 63)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(upscaler->Upscale(image, Request(2, 257)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(upscaler->Upscale(image, Request(2, 256)).ok());
  EXPECT_EQ(upscaler->Upscale(cv::Mat(), Request(2, 64)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(upscaler->Upscale(cv::Mat(8, 8, CV_8UC1, cv::Scalar(0)), Request(2, 64)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TorchUpscalerTest, AcceptsImageViews) {
  std::unique_ptr<Upscaler> upscaler = MakeUpscaler("bicubic");
  ASSERT_NE(upscaler, nullptr);
  const cv::Mat image = NoiseImage(90, 70);
  const cv::Mat view = image(cv::Rect(5, 7, 41, 33));  // not continuous
  ASSERT_FALSE(view.isContinuous());
  auto out = upscaler->Upscale(view, Request(2, 64));
  ASSERT_TRUE(out.ok()) << out.status().message();
  cv::Mat reference;
  cv::resize(view.clone(), reference, out->size(), 0, 0, cv::INTER_CUBIC);
  EXPECT_LE(Compare(*out, reference).max, 1);
}

TEST(CreateUpscalerTest, RejectsBadOptions) {
  ModelOptions options;
  options.flags.spec = "nearest";
  auto bad_spec = CreateUpscaler(options);
  EXPECT_EQ(bad_spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_spec.status().message().find("bicubic, lanczos"), std::string::npos)
      << bad_spec.status().message();
  options.flags.spec = "bicubic:x";
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kInvalidArgument);

  options.flags.spec = "bicubic";
  options.device = "gpu";
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kInvalidArgument);
  options.device = "cpu";
  options.tile_batch = 0;
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kInvalidArgument);
  options.tile_batch = 4;
  options.tile_overlap = 33;
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kInvalidArgument);
  options.tile_overlap = 16;
  EXPECT_TRUE(CreateUpscaler(options).ok());
}

TEST(CreateUpscalerTest, AppliesTheColorFixOption) {
  ModelOptions options;
  options.flags.spec = "bicubic";
  options.flags.color_fix = "sepia";
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kInvalidArgument);
  // Bicubic fixed against bicubic stays bicubic (OpenCV's and ATen's differ by rounding only).
  const cv::Mat image = NoiseImage(70, 50);
  for (const char* fix : {"wavelet", "adain"}) {
    SCOPED_TRACE(fix);
    options.flags.color_fix = fix;
    auto upscaler = CreateUpscaler(options);
    ASSERT_TRUE(upscaler.ok()) << upscaler.status().message();
    auto out = (*upscaler)->Upscale(image, Request(2, 64));
    ASSERT_TRUE(out.ok()) << out.status().message();
    cv::Mat reference;
    cv::resize(image, reference, out->size(), 0, 0, cv::INTER_CUBIC);
    const Difference d = Compare(*out, reference);
    EXPECT_LE(d.max, 2);
    EXPECT_LE(d.mean, 0.1);
  }
}

TEST(CreateUpscalerTest, CudaIsAFailedPreconditionWithoutIt) {
  ModelOptions options;
  options.device = "cuda:0";
  auto upscaler = CreateUpscaler(options);
  if (upscaler.ok()) GTEST_SKIP() << "this machine has CUDA";
  EXPECT_EQ(upscaler.status().code(), StatusCode::kFailedPrecondition) << upscaler.status().message();
}

}  // namespace
}  // namespace tsdsr::worker

namespace tsdsr::worker {
namespace {

// Nearest-neighbour upscaling that runs out of memory on batches above `max_batch` tiles or tiles larger
// than `max_edge` pixels, as a GPU would on a big tile.
class MemoryHungryModel : public model::TileModel {
 public:
  MemoryHungryModel(int max_batch, int max_edge) : max_batch_(max_batch), max_edge_(max_edge) {}
  at::Tensor Forward(const at::Tensor& batch, int scale) override {
    TORCH_CHECK_WITH(OutOfMemoryError, batch.size(0) <= max_batch_ && batch.size(2) <= max_edge_,
                     "CUDA out of memory. Tried to allocate 2.00 GiB");
    return batch.repeat_interleave(scale, 2).repeat_interleave(scale, 3);
  }
  const std::vector<int>& scales() const override { return scales_; }
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return c10::ScalarType::Float; }
  c10::Device device() const override { return c10::Device(c10::DeviceType::CPU); }

 private:
  int max_batch_;
  int max_edge_;
  std::vector<int> scales_{2};
  std::string name_ = "hungry";
};

TEST(TorchUpscalerOomTest, RetriesOnceWithSmallerTilesOneAtATime) {
  auto upscaler = TorchUpscaler::Create(std::make_unique<MemoryHungryModel>(1, 64), model::TilerOptions{4, 0});
  ASSERT_TRUE(upscaler.ok());
  cv::Mat image = NoiseImage(150, 90);
  auto out = (*upscaler)->Upscale(image, Request(2, 128));
  ASSERT_TRUE(out.ok()) << out.status().message();
  cv::Mat expected;
  cv::resize(image, expected, cv::Size(300, 180), 0, 0, cv::INTER_NEAREST);
  EXPECT_EQ(Compare(*out, expected).max, 0);
}

TEST(TorchUpscalerOomTest, SaysSoWhenEvenTheSmallestRunDoesNotFit) {
  auto upscaler = TorchUpscaler::Create(std::make_unique<MemoryHungryModel>(1, 16), model::TilerOptions{4, 0});
  ASSERT_TRUE(upscaler.ok());
  auto out = (*upscaler)->Upscale(NoiseImage(150, 90), Request(2, 128));
  ASSERT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("even with 64-pixel tiles one at a time"), std::string::npos)
      << out.status().message();
  // The upscaler stays usable for the next job.
  EXPECT_EQ((*upscaler)->Upscale(NoiseImage(8, 8), Request(2, 64)).status().code(), StatusCode::kOk);
}

}  // namespace
}  // namespace tsdsr::worker

namespace tsdsr::worker {
namespace {

// ATen bicubic plus a constant bias on every channel: the flat-area error of a network with a DC offset.
class BiasedModel : public model::TileModel {
 public:
  explicit BiasedModel(float bias) : bias_(bias) {}
  at::Tensor Forward(const at::Tensor& batch, int scale) override {
    return at::upsample_bicubic2d(batch, {batch.size(2) * scale, batch.size(3) * scale}, false).add(bias_);
  }
  const std::vector<int>& scales() const override { return scales_; }
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return c10::ScalarType::Float; }
  c10::Device device() const override { return c10::Device(c10::DeviceType::CPU); }

 private:
  float bias_;
  std::vector<int> scales_{2, 4};
  std::string name_ = "biased";
};

// A dark frame with texture: values 5..44, where a small bias is most visible.
cv::Mat DarkImage(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(image, cv::RNG::UNIFORM, 5, 45);
  cv::GaussianBlur(image, image, cv::Size(5, 5), 1.5);
  return image;
}

double MeanSignedDifference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::subtract(a, b, diff, cv::noArray(), CV_32F);
  const cv::Scalar mean = cv::mean(diff);
  return (mean[0] + mean[1] + mean[2]) / 3;
}

TEST(TorchUpscalerColorFixTest, WaveletRemovesAConstantBiasAndNoneKeepsIt) {
  const cv::Mat image = DarkImage(150, 90);  // several tiles of 64
  constexpr float kBias = 0.02f;             // about 5 grey levels
  for (int scale : {2, 4}) {
    SCOPED_TRACE("x" + std::to_string(scale));
    cv::Mat bicubic;
    cv::resize(image, bicubic, image.size() * scale, 0, 0, cv::INTER_CUBIC);
    for (model::ColorFix fix : {model::ColorFix::kNone, model::ColorFix::kWavelet, model::ColorFix::kAdain}) {
      SCOPED_TRACE(std::string(model::ColorFixName(fix)));
      auto upscaler = TorchUpscaler::Create(std::make_unique<BiasedModel>(kBias), model::TilerOptions{4, 0}, fix);
      ASSERT_TRUE(upscaler.ok());
      auto out = (*upscaler)->Upscale(image, Request(scale, 64));
      ASSERT_TRUE(out.ok()) << out.status().message();
      const double bias = MeanSignedDifference(*out, bicubic);
      if (fix == model::ColorFix::kNone) {
        EXPECT_NEAR(bias, kBias * 255, 0.3);
        continue;
      }
      EXPECT_NEAR(bias, 0, 0.1);
      // The wavelet fix gives back the bicubic upscale itself: bias + its own low band removed exactly.
      if (fix == model::ColorFix::kWavelet) {
        EXPECT_LE(Compare(*out, bicubic).max, 1);
      }
    }
  }
}

}  // namespace
}  // namespace tsdsr::worker

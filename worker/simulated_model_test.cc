// SimulatedModel alone and through CreateUpscaler as the worker builds it ("simulated:MS").
#include "worker/simulated_model.h"

#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <ATen/ops/arange.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "worker/model_factory.h"

namespace tsdsr::worker {
namespace {

using Stopwatch = std::chrono::steady_clock;

std::unique_ptr<Upscaler> MakeUpscaler(const std::string& spec, int tile_batch = 4) {
  ModelOptions options;
  options.flags.spec = spec;
  options.tile_batch = tile_batch;
  auto upscaler = CreateUpscaler(options);
  EXPECT_TRUE(upscaler.ok()) << upscaler.status().message();
  return upscaler.ok() ? std::move(*upscaler) : nullptr;
}

UpscaleRequest Request(int scale, int process_size) {
  UpscaleRequest request;
  request.scale = scale;
  request.process_size = process_size;
  return request;
}

// CPU time of the whole process (every thread) so far, in milliseconds.
double ProcessCpuMillis() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto millis = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return millis(usage.ru_utime) + millis(usage.ru_stime);
}

TEST(SimulatedModelTest, AcceptsMillisecondsInRange) {
  for (const char* ms : {"0", "1", "100", "600000"}) {
    auto model = SimulatedModel::Create(ms);
    ASSERT_TRUE(model.ok()) << ms << ": " << model.status().message();
    EXPECT_EQ((*model)->millis_per_tile(), std::stoll(ms));
    EXPECT_EQ((*model)->name(), "simulated");
    EXPECT_EQ((*model)->scales(), (std::vector<int>{2, 4}));
    EXPECT_EQ((*model)->dtype(), c10::ScalarType::Float);
    EXPECT_TRUE((*model)->device().is_cpu());
  }
}

TEST(SimulatedModelTest, RefusesAnythingElseWithTheRange) {
  for (const char* ms : {"", "-1", "600001", "+5", " 5", "5ms", "1.5", "abc", "99999999999999999999"}) {
    auto model = SimulatedModel::Create(ms);
    ASSERT_FALSE(model.ok()) << "'" << ms << "'";
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(model.status().message().find("0 to 600000"), std::string::npos) << model.status().message();
  }
}

TEST(SimulatedModelTest, FactoryRefusesABadSpec) {
  ModelOptions options;
  options.flags.spec = "simulated:fast";
  auto upscaler = CreateUpscaler(options);
  ASSERT_FALSE(upscaler.ok());
  EXPECT_EQ(upscaler.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(upscaler.status().message().find("'fast'"), std::string::npos) << upscaler.status().message();
  options.flags.spec = "simulated";
  EXPECT_EQ(CreateUpscaler(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(SimulatedModelTest, ForwardRepeatsEachPixel) {
  auto model = SimulatedModel::Create("0");
  ASSERT_TRUE(model.ok());
  const at::Tensor batch = at::arange(2 * 3 * 2 * 3, at::kFloat).reshape({2, 3, 2, 3});
  for (int scale : {2, 4}) {
    const at::Tensor out = (*model)->Forward(batch, scale);
    ASSERT_EQ(out.sizes().vec(), (std::vector<int64_t>{2, 3, 2 * scale, 3 * scale}));
    for (int y = 0; y < 2 * scale; ++y) {
      for (int x = 0; x < 3 * scale; ++x) {
        EXPECT_EQ(out[1][2][y][x].item<float>(), batch[1][2][y / scale][x / scale].item<float>());
      }
    }
  }
  EXPECT_THROW((*model)->Forward(batch, 3), c10::Error);
  EXPECT_THROW((*model)->Forward(batch[0], 2), c10::Error);
}

TEST(SimulatedModelTest, UpscaleHasTheRightSize) {
  auto upscaler = MakeUpscaler("simulated:0");
  ASSERT_NE(upscaler, nullptr);
  EXPECT_EQ(upscaler->description().name, "simulated");
  cv::Mat image(37, 50, CV_8UC3, cv::Scalar(10, 120, 250));
  for (int scale : {2, 4}) {
    auto out = upscaler->Upscale(image, Request(scale, 64));
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->cols, 50 * scale);
    EXPECT_EQ(out->rows, 37 * scale);
    // A flat image stays flat through the repeat and the blend.
    EXPECT_EQ(out->at<cv::Vec3b>(out->rows / 2, out->cols / 2), cv::Vec3b(10, 120, 250));
  }
}

// One Upscale of T tiles holds the worker for at least T × MS, asleep: it costs little CPU. Only the lower
// bound of the wall time is asserted; a loaded machine may take longer.
TEST(SimulatedModelTest, HoldsTheWorkerPerTileWithoutUsingTheCpu) {
  constexpr int kMillis = 150;
  auto upscaler = MakeUpscaler("simulated:" + std::to_string(kMillis), /*tile_batch=*/2);
  ASSERT_NE(upscaler, nullptr);
  // 120 = 64 + 56: two tiles of 64 per axis at the default overlap of 8, so 4 tiles in 2 batches.
  cv::Mat image(120, 120, CV_8UC3, cv::Scalar(1, 2, 3));
  constexpr int kTiles = 4;
  const double cpu_before = ProcessCpuMillis();
  const auto start = Stopwatch::now();
  auto out = upscaler->Upscale(image, Request(2, 64));
  const double wall = std::chrono::duration<double, std::milli>(Stopwatch::now() - start).count();
  const double cpu = ProcessCpuMillis() - cpu_before;
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->cols, 240);
  EXPECT_GE(wall, kTiles * kMillis);
  EXPECT_LT(cpu, 0.25 * kTiles * kMillis) << "wall " << wall << " ms";
}

TEST(SimulatedModelTest, CancellationIsNoticedBetweenBatches) {
  constexpr int kMillis = 100;
  auto upscaler = MakeUpscaler("simulated:" + std::to_string(kMillis), /*tile_batch=*/1);
  ASSERT_NE(upscaler, nullptr);
  cv::Mat image(120, 120, CV_8UC3, cv::Scalar(1, 2, 3));  // 4 tiles, 4 batches of one
  int polls = 0;
  UpscaleRequest request = Request(2, 64);
  request.cancelled = [&polls] { return ++polls > 1; };  // cancelled once the first batch ran
  const auto start = Stopwatch::now();
  auto out = upscaler->Upscale(image, request);
  const double wall = std::chrono::duration<double, std::milli>(Stopwatch::now() - start).count();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kCancelled);
  EXPECT_GE(wall, kMillis);
  EXPECT_EQ(polls, 2);
}

}  // namespace
}  // namespace tsdsr::worker

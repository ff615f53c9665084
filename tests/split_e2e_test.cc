// One large image over several idle workers (dispatcher/pool/image_splitter.h): real dispatchers and workers, the
// result compared with what a single worker makes of the same image.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

struct Answer {
  cv::Mat image;
  std::string workers;  // X-Worker
};

Answer Upscale(Cluster& cluster, const cv::Mat& input, const std::string& query) {
  auto response = cluster.http().PostRaw("/upscale?" + query, "image/png", EncodePng(input));
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  if (!response.ok()) return {};
  EXPECT_EQ(response->status, 200) << response->body;
  return {DecodeBytes(response->body), response->Header("x-worker")};
}

int WorkersIn(const std::string& x_worker) {
  return x_worker.empty() ? 0 : 1 + static_cast<int>(std::count(x_worker.begin(), x_worker.end(), '+'));
}

// 4 simulated workers (nearest neighbour, 5 ms a tile): the pieces go to all four and the joined image is the
// single worker's exactly (and within a grey level, the bound).
TEST(SplitE2eTest, ALargeImageOverFourSimulatedWorkersEqualsOneWorkersResult) {
  const cv::Mat input = TestImage(420, 330, 7);  // ×2: 554,400 output pixels
  auto many = Cluster::Start(4, {"--model", "simulated:5", "--split-min-pixels", "200000"});
  ASSERT_NE(many, nullptr);
  const Answer split = Upscale(*many, input, "upscale=2&process_size=64");
  EXPECT_EQ(WorkersIn(split.workers), 4) << split.workers;
  const Answer small = Upscale(*many, TestImage(100, 100), "upscale=2&process_size=64");
  EXPECT_EQ(WorkersIn(small.workers), 1) << "under the threshold: not split";
  many.reset();

  auto one = Cluster::Start(1, {"--model", "simulated:5", "--split-min-pixels", "200000"});
  ASSERT_NE(one, nullptr);
  const Answer whole = Upscale(*one, input, "upscale=2&process_size=64");
  EXPECT_EQ(WorkersIn(whole.workers), 1);
  ASSERT_EQ(split.image.size(), whole.image.size());
  EXPECT_LE(MaxAbsDiff(split.image, whole.image), 1);
  EXPECT_EQ(MaxAbsDiff(split.image, Nearest2x(input)), 0) << "nearest neighbour blends back exactly";
}

// Bicubic really blends: the pieces' overlaps cross-fade, and the result stays within a grey level of OpenCV's
// resize of the whole image, as one worker's does. ×4, JPEG out, and an async job take the same path.
TEST(SplitE2eTest, BicubicPiecesBlendIntoTheWholeImage) {
  const cv::Mat input = TestImage(300, 257, 3);
  auto cluster = Cluster::Start(2, {"--split-min-pixels", "100000"});
  ASSERT_NE(cluster, nullptr);
  cv::Mat reference;
  cv::resize(input, reference, cv::Size(input.cols * 4, input.rows * 4), 0, 0, cv::INTER_CUBIC);
  const Answer split = Upscale(*cluster, input, "upscale=4&process_size=64");
  EXPECT_EQ(WorkersIn(split.workers), 2) << split.workers;
  EXPECT_LE(MaxAbsDiff(split.image, reference), 1);

  const Answer jpeg = Upscale(*cluster, input, "upscale=2&process_size=64&format=jpeg");
  EXPECT_EQ(WorkersIn(jpeg.workers), 2) << jpeg.workers;
  EXPECT_EQ(jpeg.image.cols, 600);
  EXPECT_EQ(jpeg.image.rows, 514);

  auto submitted = PostJob(cluster->http(), EncodePng(input), "upscale=4");
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  const nlohmann::json job = WaitForJob(cluster->http(), JobIdOf(submitted));
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  EXPECT_EQ(WorkersIn(job["worker"].get<std::string>()), 2) << job.dump();
  auto result = cluster->http().Get("/jobs/" + JobIdOf(submitted) + "/result");
  ASSERT_TRUE(result.ok());
  EXPECT_LE(MaxAbsDiff(DecodeBytes(result->body), reference), 1);
}

// A worker killed while it holds a piece: the pool gives that piece to another worker, and the image still comes
// back whole and exact.
TEST(SplitE2eTest, AWorkerKilledMidSplitLosesNoPiece) {
  const cv::Mat input = TestImage(300, 300, 5);  // 3 pieces of 3 tiles: 1.2 s each at 400 ms a tile
  auto cluster = Cluster::Start(3, {"--model", "simulated:400", "--split-min-pixels", "100000"});
  ASSERT_NE(cluster, nullptr);
  auto watcher = client::HttpClient::Create(cluster->base_url(), std::chrono::seconds(10));  // its own connection
  ASSERT_TRUE(watcher.ok());
  std::thread killer([&] {
    for (int i = 0; i < 400; ++i) {
      auto info = (*watcher)->Get("/info");
      const nlohmann::json workers = info.ok() ? nlohmann::json::parse(info->body)["workers"] : nlohmann::json();
      for (const auto& w : workers) {
        if (w["in_flight"].get<int>() > 0) {
          kill(w["pid"].get<int>(), SIGKILL);
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "no worker ever held a piece";
  });
  const Answer answer = Upscale(*cluster, input, "upscale=2&process_size=64");
  killer.join();
  ASSERT_FALSE(answer.image.empty());
  EXPECT_EQ(MaxAbsDiff(answer.image, Nearest2x(input)), 0);
  EXPECT_GE(WorkersIn(answer.workers), 2) << answer.workers;
}

}  // namespace
}  // namespace tsdsr::testing

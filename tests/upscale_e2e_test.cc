// One dispatcher, two real workers (bicubic): images go in through curl -F, a raw body and tsdsr-client,
// and come back the size and content of OpenCV's own resize.
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

class UpscaleE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = Cluster::Start(2).release(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << "cluster did not start"; }

  static cv::Mat Reference(const cv::Mat& input, int scale) {
    cv::Mat expected;
    cv::resize(input, expected, cv::Size(input.cols * scale, input.rows * scale), 0, 0, cv::INTER_CUBIC);
    return expected;
  }

  static Cluster* cluster_;
  TempDir dir_;
};

Cluster* UpscaleE2eTest::cluster_ = nullptr;

struct Case {
  int width;
  int height;
  int scale;
  int process_size;
};

const Case kCases[] = {{1, 1, 2, 64},    {1, 37, 2, 64},   {37, 1, 4, 64},    {37, 23, 2, 128},
                       {64, 64, 4, 64},  {131, 67, 2, 64}, {200, 131, 4, 96}, {257, 129, 2, 256}};

TEST_F(UpscaleE2eTest, CurlMultipartUploadsMatchOpenCvResize) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::to_string(c.width) + "x" + std::to_string(c.height) + " x" + std::to_string(c.scale));
    cv::Mat input = TestImage(c.width, c.height, c.width * 31 + c.height);
    std::string in = dir_.File("in.png");
    std::string out = dir_.File("out.png");
    ASSERT_TRUE(cv::imwrite(in, input));
    std::string code;
    std::string command = "curl -s -o " + out + " -w '%{http_code}' -F file=@" + in + " '" + cluster_->base_url() +
                          "/upscale?upscale=" + std::to_string(c.scale) +
                          "&process_size=" + std::to_string(c.process_size) + "'";
    ASSERT_EQ(RunCommand(command, &code), 0) << command;
    ASSERT_EQ(code, "200") << ReadFile(out);
    cv::Mat output = cv::imread(out, cv::IMREAD_COLOR);
    ASSERT_EQ(output.cols, c.width * c.scale);
    ASSERT_EQ(output.rows, c.height * c.scale);
    EXPECT_LE(MaxAbsDiff(output, Reference(input, c.scale)), 1);
  }
}

TEST_F(UpscaleE2eTest, RawBodyAndResponseHeaders) {
  cv::Mat input = TestImage(50, 30);
  auto response = cluster_->http().PostRaw("/upscale?upscale=4&process_size=64", "image/png", EncodePng(input));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->headers["content-type"], "image/png");
  EXPECT_EQ(response->headers["x-output-size"], "200x120");
  EXPECT_FALSE(response->headers["x-worker"].empty());
  EXPECT_FALSE(response->headers["x-queue-ms"].empty());
  EXPECT_FALSE(response->headers["x-compute-ms"].empty());
  EXPECT_LE(MaxAbsDiff(DecodeBytes(response->body), Reference(input, 4)), 1);
}

TEST_F(UpscaleE2eTest, JpegAndWebpOutputs) {
  cv::Mat input = TestImage(40, 40);
  for (const std::string format : {"jpeg", "webp"}) {
    auto response = cluster_->http().PostRaw("/upscale?format=" + format, "image/png", EncodePng(input));
    ASSERT_TRUE(response.ok());
    ASSERT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->headers["content-type"], "image/" + format);
    cv::Mat output = DecodeBytes(response->body);
    EXPECT_EQ(output.cols, 80);
    EXPECT_LT(cv::norm(output, Reference(input, 2), cv::NORM_L1) / output.total() / 3, 8.0) << "lossy but close";
  }
}

TEST_F(UpscaleE2eTest, CommandLineClientWritesTheUpscaledImage) {
  for (const Case& c : {kCases[1], kCases[5]}) {
    cv::Mat input = TestImage(c.width, c.height, 7);
    std::string in = dir_.File("client-in.png");
    std::string out = dir_.File("client-out.png");
    ASSERT_TRUE(cv::imwrite(in, input));
    std::string command = Program("tsdsr-client") + " -i " + in + " -o " + out + " -u " + std::to_string(c.scale) +
                          " -ps " + std::to_string(c.process_size) + " --port " + std::to_string(cluster_->port());
    std::string printed;
    ASSERT_EQ(RunCommand(command + " 2>&1", &printed), 0) << printed;
    cv::Mat output = cv::imread(out, cv::IMREAD_COLOR);
    ASSERT_EQ(output.cols, c.width * c.scale);
    EXPECT_LE(MaxAbsDiff(output, Reference(input, c.scale)), 1);
  }
}

TEST_F(UpscaleE2eTest, ConcurrentRequestsAllSucceedAcrossBothWorkers) {
  cv::Mat input = TestImage(120, 90);
  std::string png = EncodePng(input);
  cv::Mat expected = Reference(input, 2);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::mutex workers_mu;
  std::set<std::string> workers;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      auto http = client::HttpClient::Create(cluster_->base_url(), std::chrono::seconds(60));
      ASSERT_TRUE(http.ok());
      for (int i = 0; i < 4; ++i) {
        auto r = (*http)->PostRaw("/upscale?process_size=64", "image/png", png);
        if (r.ok() && r->status == 200 && MaxAbsDiff(DecodeBytes(r->body), expected) <= 1) {
          ++ok;
          std::lock_guard<std::mutex> lock(workers_mu);
          workers.insert(r->headers["x-worker"]);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 24);
  EXPECT_EQ(workers.size(), 2u) << "jobs spread over both workers";
}

}  // namespace
}  // namespace tsdsr::testing

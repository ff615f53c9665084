// The service around the model: status pages, metrics, bad input answered with the documented 4xx while
// the server keeps serving, health while every worker is busy, and a clean stop.
#include <atomic>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

class ServiceE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = Cluster::Start(2, {"--max-body-mb", "1"}).release(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << "cluster did not start"; }

  // Still serving: a small good request gets its image.
  static void ExpectStillServing() {
    auto r = cluster_->http().PostRaw("/upscale", "image/png", EncodePng(TestImage(8, 8)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200) << r->body;
  }

  static void ExpectError(const Result<client::HttpResponse>& r, long status, const std::string& code,
                          const std::string& message_part) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, status) << r->body;
    auto body = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r->body;
    EXPECT_EQ(body["code"], code);
    EXPECT_NE(body["error"].get<std::string>().find(message_part), std::string::npos) << body["error"];
    ExpectStillServing();
  }

  static Cluster* cluster_;
};

Cluster* ServiceE2eTest::cluster_ = nullptr;

TEST_F(ServiceE2eTest, HealthInfoAndStatsDescribeThePool) {
  long status = 0;
  auto health = cluster_->GetJson("/health", &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["workers"]["ready"].get<int>() + health["workers"]["busy"].get<int>(), 2);
  EXPECT_EQ(health["workers"]["total"], 2);
  EXPECT_EQ(health["models_loaded"]["bicubic"], true);
  EXPECT_EQ(health["models_loaded"]["device"], "cpu");

  auto info = cluster_->GetJson("/info");
  EXPECT_EQ(info["name"], "TSD-SR Serve");
  EXPECT_EQ(info["model"], "bicubic");
  EXPECT_EQ(info["scales"], nlohmann::json({2, 4}));
  ASSERT_EQ(info["workers"].size(), 2u);
  for (const auto& w : info["workers"]) {
    EXPECT_EQ(w["device"], "cpu");
    EXPECT_EQ(w["dtype"], "float32");
    EXPECT_EQ(w["model_name"], "bicubic");
    EXPECT_GT(w["memory"]["total_gb"].get<double>(), 0);
  }

  auto stats = cluster_->GetJson("/stats");
  for (const char* field : {"timestamp", "queue_depth", "in_flight", "jobs_done", "device", "dtype",
                            "gpu_memory_total_gb", "gpu_memory_free_gb", "workers"}) {
    EXPECT_TRUE(stats.contains(field)) << field;
  }
  EXPECT_EQ(cluster_->GetJson("/health/live")["status"], "alive");
  EXPECT_EQ(cluster_->GetJson("/health/ready")["ready"], true);
}

TEST_F(ServiceE2eTest, MetricsParseAsPrometheusText) {
  ExpectStillServing();
  auto r = cluster_->http().Get("/metrics");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"].rfind("text/plain", 0), 0u);
  // Text exposition format 0.0.4: comments, or `name{label="value",...} number`.
  const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? )"
                          R"((-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$)");
  const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::istringstream lines(r->body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    bool ok = line[0] == '#' ? std::regex_match(line, comment) : std::regex_match(line, sample);
    EXPECT_TRUE(ok) << "not Prometheus text: " << line;
    samples += line[0] != '#';
  }
  EXPECT_GT(samples, 10);
  for (const char* name : {"tsdsr_http_requests_total", "tsdsr_jobs_total{outcome=\"ok\"}", "tsdsr_queue_depth",
                           "tsdsr_compute_seconds_bucket", "tsdsr_workers{state=\"ready\"}",
                           "tsdsr_worker_busy{", "tsdsr_worker_progress_total{", "tsdsr_build_info{"}) {
    EXPECT_NE(r->body.find(name), std::string::npos) << name;
  }
}

TEST_F(ServiceE2eTest, BadInputGetsTheDocumentedStatusAndTheServerKeepsServing) {
  auto& http = cluster_->http();
  std::string png = EncodePng(TestImage(16, 16));
  ExpectError(http.PostMultipart("/upscale", {{"image", "a.png", "image/png", png}}), 400, "invalid_argument",
              "multipart field 'file' is missing");
  ExpectError(http.PostRaw("/upscale", "image/png", ""), 400, "invalid_argument", "empty");
  ExpectError(http.PostMultipart("/upscale", {{"file", "notes.txt", "text/plain", "just some words\n"}}), 400,
              "invalid_argument", "not an image");
  ExpectError(http.PostRaw("/upscale", "text/plain", "just some words\n"), 415, "unsupported_type", "Content-Type");
  ExpectError(http.PostMultipart("/upscale", {{"file", "cut.png", "image/png", png.substr(0, png.size() / 2)}}), 400,
              "invalid_argument", "PNG");
  ExpectError(http.PostMultipart("/upscale?upscale=3", {{"file", "a.png", "image/png", png}}), 400,
              "invalid_argument", "upscale must be one of 2, 4");
  ExpectError(http.PostMultipart("/upscale?process_size=9999", {{"file", "a.png", "image/png", png}}), 400,
              "invalid_argument", "process_size must be between 64 and 256");
  std::string big(2 << 20, 'x');
  ExpectError(http.PostRaw("/upscale", "image/png", big), 413, "too_large", "MiB");
  auto unknown = http.Get("/no-such-page");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(ServiceE2eTest, CurlOverTheLimitGets413) {
  TempDir dir;
  std::string path = dir.File("big.png");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(3 << 20, 'x');
  }
  std::string code;
  ASSERT_EQ(RunCommand("curl -s -o /dev/null -w '%{http_code}' -F file=@" + path + " " + cluster_->base_url() +
                           "/upscale",
                       &code),
            0);
  EXPECT_EQ(code, "413");
  ExpectStillServing();
}

TEST_F(ServiceE2eTest, HealthAnswersWhileEveryWorkerIsBusy) {
  // Big ×4 jobs keep both workers busy for seconds (resize and PNG-encode 16 MP outputs). The input is a
  // smooth gradient so its PNG stays under this cluster's 1 MiB body limit.
  cv::Mat smooth(1024, 1024, CV_8UC3);
  for (int y = 0; y < smooth.rows; ++y) {
    for (int x = 0; x < smooth.cols; ++x) smooth.at<cv::Vec3b>(y, x) = cv::Vec3b(x / 4, y / 4, (x + y) / 8);
  }
  std::string png = EncodePng(smooth);
  ASSERT_LT(png.size(), 1u << 20);
  std::vector<std::thread> jobs;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    jobs.emplace_back([&] {
      auto http = client::HttpClient::Create(cluster_->base_url(), std::chrono::seconds(120));
      auto r = (*http)->PostRaw("/upscale?upscale=4&process_size=256", "image/png", png);
      if (r.ok() && r->status == 200) ++ok;
    });
  }
  bool saw_all_busy = false;
  for (int i = 0; i < 400 && !saw_all_busy; ++i) {
    auto started = std::chrono::steady_clock::now();
    long status = 0;
    auto health = cluster_->GetJson("/health", &status);
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(status, 200);
    if (health["workers"]["busy"] == 2) {
      saw_all_busy = true;
      // Not a timing test: the jobs take seconds, so any answer now did not wait for them.
      EXPECT_LT(took, std::chrono::seconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(saw_all_busy);
  for (auto& t : jobs) t.join();
  EXPECT_EQ(ok.load(), 6);
}

TEST(DispatcherStartE2eTest, InvalidFlagsAreRefusedWithWhatIsAllowed) {
  std::string out;
  EXPECT_EQ(RunCommand(Program("tsdsr-dispatcher") + " --upscale 3 2>&1", &out), 2);
  EXPECT_NE(out.find("--upscale must be 2 or 4"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(Program("tsdsr-dispatcher") + " --process-size 9 2>&1", &out), 2);
  EXPECT_NE(out.find("64..256"), std::string::npos) << out;
  EXPECT_EQ(RunCommand(Program("tsdsr-worker") + " --model nonsense 2>&1", &out), 2);
  EXPECT_NE(out.find("unknown model"), std::string::npos) << out;
}

TEST(DispatcherStartE2eTest, SigtermStopsCleanly) {
  auto cluster = Cluster::Start(1);
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->Terminate(), "exit code 0");
}

}  // namespace
}  // namespace tsdsr::testing

// Load shedding and time limits: a full queue answers 503 with Retry-After, deadlines answer 504 on time,
// a client that goes away cancels its job, and SIGTERM drains without losing an accepted request.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Tally {
  std::mutex mu;
  std::map<long, int> by_status;  // 0 = no HTTP answer
  int missing_retry_after = 0;
  void Add(const Result<client::HttpResponse>& r) {
    std::lock_guard<std::mutex> lock(mu);
    by_status[r.ok() ? r->status : 0] += 1;
    if (r.ok() && r->status == 503 && r->headers.count("retry-after") == 0) ++missing_retry_after;
  }
};

// `count` concurrent small uploads, one connection each.
void Flood(Cluster& cluster, int count, Tally& tally, const std::string& path = "/upscale?process_size=64") {
  const std::string png = EncodePng(TestImage(16, 16));
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&] {
      auto http = client::HttpClient::Create(cluster.base_url(), std::chrono::seconds(120));
      tally.Add((*http)->PostRaw(path, "image/png", png));
    });
  }
  for (auto& t : threads) t.join();
}

TEST(LimitsE2eTest, QueueOverflowAnswersOnly200And503WithRetryAfter) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:50", "--max-queue", "4"});
  ASSERT_NE(cluster, nullptr);
  Tally tally;
  Flood(*cluster, 80, tally);
  EXPECT_EQ(tally.by_status.size(), 2u) << "only 200 and 503";
  EXPECT_GT(tally.by_status[200], 0);
  EXPECT_GT(tally.by_status[503], 0);
  EXPECT_EQ(tally.by_status[200] + tally.by_status[503], 80);
  EXPECT_EQ(tally.missing_retry_after, 0);
  long status = 0;
  EXPECT_EQ(cluster->GetJson("/health", &status)["status"], "ok");
  EXPECT_EQ(status, 200);
  Tally after;
  Flood(*cluster, 3, after);
  EXPECT_EQ(after.by_status[200], 3) << "healthy afterwards";
}

// Sends one request with timeout_ms and returns (status, elapsed ms).
std::pair<long, double> Timed(Cluster& cluster, int timeout_ms) {
  auto http = client::HttpClient::Create(cluster.base_url(), std::chrono::seconds(60));
  auto start = Clock::now();
  auto r = (*http)->PostRaw("/upscale?process_size=64&timeout_ms=" + std::to_string(timeout_ms), "image/png",
                            EncodePng(TestImage(16, 16)));
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return {r.ok() ? r->status : 0, ms};
}

TEST(LimitsE2eTest, DeadlinesAnswer504WithinTenPercent) {
  // One worker with 2 slots and 3 s jobs: the first deadline passes while computing, the second while
  // prefetched on the worker, the third in the dispatcher's queue.
  auto cluster = Cluster::Start(1, {"--model", "simulated:3000"});
  ASSERT_NE(cluster, nullptr);
  std::pair<long, double> results[3];
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] { result = Timed(*cluster, 1000); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : threads) t.join();
  for (const auto& [status, ms] : results) {
    EXPECT_EQ(status, 504);
    EXPECT_GE(ms, 1000);
    EXPECT_LE(ms, 1100) << "within 10% of the deadline";
  }
  auto metrics = cluster->http().Get("/metrics");
  EXPECT_NE(metrics->body.find("tsdsr_jobs_total{outcome=\"timeout\"} 3"), std::string::npos);
}

TEST(LimitsE2eTest, AClientThatGoesAwayCancelsItsJob) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:1500"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  ASSERT_TRUE(cv::imwrite(dir.File("in.png"), TestImage(16, 16)));
  // Three impatient clients: one job computes, two wait in the queue; all give up after 0.3 s.
  std::vector<std::thread> impatient;
  for (int i = 0; i < 3; ++i) {
    impatient.emplace_back([&] {
      RunCommand("curl -s -o /dev/null --max-time 0.3 -F file=@" + dir.File("in.png") + " " + cluster->base_url() +
                 "/upscale?process_size=64");
    });
  }
  for (auto& t : impatient) t.join();
  std::string body;
  for (int i = 0; i < 100; ++i) {
    body = cluster->http().Get("/metrics")->body;
    if (body.find("tsdsr_jobs_total{outcome=\"cancelled\"} 3") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(body.find("tsdsr_jobs_total{outcome=\"cancelled\"} 3"), std::string::npos) << body;
  auto stats = cluster->GetJson("/stats");
  EXPECT_EQ(stats["queue_depth"], 0);
  EXPECT_EQ(stats["in_flight"], 0) << "the computing job was cancelled on the worker too";
}

TEST(LimitsE2eTest, SigtermDrainsWithoutLosingAnAcceptedRequest) {
  auto cluster = Cluster::Start(2, {"--model", "simulated:100"});
  ASSERT_NE(cluster, nullptr);
  Tally tally;
  std::thread load([&] { Flood(*cluster, 40, tally); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(cluster->pid(), SIGTERM);
  // Readiness turns false at once (once the signal is delivered), while accepted work goes on.
  long ready_status = 0;
  for (int i = 0; i < 50 && ready_status != 503; ++i) {
    cluster->GetJson("/health/ready", &ready_status);
    if (ready_status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ready_status, 503);
  load.join();
  EXPECT_EQ(cluster->WaitForExit(), "exit code 0");
  std::lock_guard<std::mutex> lock(tally.mu);
  EXPECT_EQ(tally.by_status[0], 0) << "no request lost its connection";
  EXPECT_EQ(tally.by_status[200] + tally.by_status[503], 40) << "answered, or refused before acceptance";
  EXPECT_GT(tally.by_status[200], 0);
}

}  // namespace
}  // namespace tsdsr::testing

// The web console in a real browser: Debian's headless Chromium, driven by tests/console/console_check.py through
// chromedriver, against a real dispatcher and workers. The page must load without console errors, show the
// workers, upscale a dropped image and open its before/after view, cancel a running job, show a SIGKILLed worker as
// gone within the heartbeat timeout, show a hostile file name as text, and with --api-key show nothing but the
// login form until the key is given. Screenshots land in TSDSR_SCREENSHOT_DIR.
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

constexpr int kHeartbeatMs = 200;   // the harness's --heartbeat-ms
constexpr int kHeartbeatMisses = 5;  // a silent worker is gone after 1 s

bool BrowserInstalled() {
  return RunCommand("test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && "
                    "/usr/bin/python3 -c 'import selenium' 2>/dev/null") == 0;
}

// Runs console_check.py with `arguments`; fails the test with its report when a check failed.
void RunCheck(const std::string& base_url, const std::string& arguments) {
  std::string report;
  const int rc = RunCommand("cd '" + std::string(TSDSR_SOURCE_DIR) + "' && /usr/bin/python3 "
                            "tests/console/console_check.py --url " + base_url + " --screenshots '" +
                            TSDSR_SCREENSHOT_DIR + "' " + arguments + " 2>&1", &report);
  EXPECT_EQ(rc, 0) << report;
  std::printf("%s", report.c_str());
}

TEST(ConsoleE2eTest, ShowsThePoolUpscalesAnUploadCancelsAJobAndSeesAWorkerGo) {
  if (!BrowserInstalled()) GTEST_SKIP() << "chromium, chromium-driver or python3-selenium missing: run scripts/setup";
  TempDir dir;
  ClusterOptions options;
  options.workers = 0;
  options.wait_for_ready = 0;
  options.worker_endpoint = "ipc://" + dir.File("workers.sock");
  options.flags = {"--heartbeat-misses", std::to_string(kHeartbeatMisses)};
  auto cluster = Cluster::Start(options);
  ASSERT_NE(cluster, nullptr);
  std::vector<std::unique_ptr<TestProcess>> workers;
  for (const char* id : {"remote-0", "remote-1"}) {
    // 200 ms per tile: a 48×48 image takes 0.2 s, a 1024×1024 one 64 tiles of 128 px, about 13 s.
    workers.push_back(std::make_unique<TestProcess>(std::vector<std::string>{
        Program("tsdsr-worker"), "--connect", options.worker_endpoint, "--model", "simulated:200", "--id", id,
        "--heartbeat-ms", std::to_string(kHeartbeatMs), "--log-level", "warn"}));
  }
  ASSERT_TRUE(cluster->WaitForWorkers(2, std::chrono::seconds(30)));
  ASSERT_TRUE(cv::imwrite(dir.File("small.png"), TestImage(48, 40)));
  ASSERT_TRUE(cv::imwrite(dir.File("slow.png"), TestImage(1024, 1024)));

  RunCheck(cluster->base_url(), "--small-image '" + dir.File("small.png") + "' --slow-image '" +
                                    dir.File("slow.png") + "' --kill-pid " + std::to_string(workers[1]->pid()) +
                                    " --kill-worker remote-1 --heartbeat-timeout-s " +
                                    std::to_string(kHeartbeatMs * kHeartbeatMisses / 1000.0));
  auto info = cluster->GetJson("/info");
  ASSERT_EQ(info["departed_workers"].size(), 1u) << info.dump();
  EXPECT_EQ(info["departed_workers"][0]["id"], "remote-1");
}

TEST(ConsoleE2eTest, WithAnApiKeyShowsOnlyTheLoginFormUntilTheKeyIsGiven) {
  if (!BrowserInstalled()) GTEST_SKIP() << "chromium, chromium-driver or python3-selenium missing: run scripts/setup";
  const std::string key = "console-test-key-0123456789";
  auto cluster = Cluster::Start(2, {"--model", "bicubic", "--api-key", key});
  ASSERT_NE(cluster, nullptr);
  RunCheck(cluster->base_url(), "--api-key " + key);
}

}  // namespace
}  // namespace tsdsr::testing

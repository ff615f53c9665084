// tsdsr-client's folder modes against a real dispatcher and real workers: a mixed folder with a corrupt file,
// keeping a pool busy and resuming after SIGKILL, finishing through 503s, watch mode, and async batches.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

int CountFiles(const std::string& dir, const std::string& extension = ".png") {
  int n = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    n += entry.is_regular_file() && entry.path().extension() == extension ? 1 : 0;
  }
  return n;
}

bool WaitForFile(const std::string& path, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string ClientCommand(const Cluster& cluster, const std::string& args) {
  return Program("tsdsr-client") + " --port " + std::to_string(cluster.port()) + " " + args;
}

// `count` PNGs of one tile each, img_000.png ...
std::vector<cv::Mat> WriteSmallImages(const std::string& dir, int count) {
  std::vector<cv::Mat> images;
  for (int i = 0; i < count; ++i) {
    images.push_back(TestImage(24, 16, 500 + i));
    char name[32];
    std::snprintf(name, sizeof(name), "/img_%03d.png", i);
    WriteFile(dir + name, EncodePng(images.back()));
  }
  return images;
}

TEST(ClientE2eTest, AMixedFolderWithACorruptFile) {
  auto cluster = Cluster::Start(2);
  ASSERT_NE(cluster, nullptr);
  TempDir in;
  TempDir out;
  const std::vector<ImageFile> files = MixedImages();
  for (const auto& f : files) WriteFile(in.File(f.name), f.bytes);
  std::string report_text;
  const int rc = RunCommand(ClientCommand(*cluster, "--batch " + in.path() + " --output " + out.path() +
                                                        " -u 2 -ps 64 --json 2>" + out.File("stderr.txt")),
                            &report_text);
  EXPECT_EQ(rc, 2) << "one file failed, and for a reason of its own";
  const nlohmann::json report = nlohmann::json::parse(report_text, nullptr, false);
  ASSERT_TRUE(report.is_object()) << report_text;
  EXPECT_EQ(report["total"], 20);
  EXPECT_EQ(report["ok"], 19);
  EXPECT_EQ(report["failed"], 1);
  EXPECT_NE(ReadFile(out.File("stderr.txt")).find("broken.png"), std::string::npos) << "says which file failed";
  for (size_t i = 0; i < files.size(); ++i) {
    if (i == kBrokenImage) continue;
    SCOPED_TRACE(files[i].name);
    const std::string output = out.File(fs::path(files[i].name).stem().string() + ".png");
    ASSERT_TRUE(fs::exists(output)) << "named after the input, with the format's own extension";
    const client::HttpResponse reference = UpscaleDirect(cluster->http(), files[i], "upscale=2&process_size=64");
    ASSERT_EQ(reference.status, 200);
    EXPECT_EQ(MaxAbsDiff(DecodeBytes(ReadFile(output)), DecodeBytes(reference.body)), 0);
  }
  EXPECT_FALSE(fs::exists(out.File("broken.png")));
  bool listed = false;
  for (const auto& file : report["files"]) {
    if (file["status"] == "failed") listed = file["input"].get<std::string>().find("broken.png") != std::string::npos;
  }
  EXPECT_TRUE(listed) << report.dump(2);
}

TEST(ClientE2eTest, KeepsFourWorkersBusyAndAfterSigkillDoesOnlyTheRest) {
  auto cluster = Cluster::Start(4, {"--model", "simulated:150"});
  ASSERT_NE(cluster, nullptr);
  TempDir in;
  TempDir out;
  const std::vector<cv::Mat> images = WriteSmallImages(in.path(), 60);
  std::atomic<bool> watching{true};
  std::atomic<int> most_busy{0};
  std::thread watcher([&] {  // how many workers hold a job at once
    auto http = client::HttpClient::Create(cluster->base_url(), std::chrono::seconds(10));
    while (watching) {
      auto info = (*http)->Get("/info");
      if (info.ok() && info->status == 200) {
        int busy = 0;
        const nlohmann::json parsed = nlohmann::json::parse(info->body);  // kept alive for the loop
        for (const auto& w : parsed["workers"]) busy += w["in_flight"].get<int>() > 0;
        most_busy = std::max(most_busy.load(), busy);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  {
    TestProcess first({Program("tsdsr-client"), "--port", std::to_string(cluster->port()), "--batch", in.path(),
                       "--output", out.path(), "-ps", "64"});
    for (int i = 0; i < 1500 && CountFiles(out.path()) < 20; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    first.Signal(SIGKILL);
    first.Wait(std::chrono::seconds(10));
  }
  watching = false;
  watcher.join();
  EXPECT_EQ(most_busy.load(), 4) << "the default -j keeps every worker's slots full";
  cluster->WaitForJson("/stats", [](const nlohmann::json& s) { return s["queue_depth"] == 0 && s["in_flight"] == 0; });
  const int written = CountFiles(out.path());
  ASSERT_GE(written, 20);
  ASSERT_LT(written, 60) << "killed halfway";
  const int done_before = cluster->GetJson("/stats")["jobs_done"];
  std::string report_text;
  ASSERT_EQ(RunCommand(ClientCommand(*cluster,
                                     "--batch " + in.path() + " --output " + out.path() + " -ps 64 --json 2>/dev/null"),
                       &report_text),
            0);
  const nlohmann::json report = nlohmann::json::parse(report_text);
  EXPECT_EQ(report["skipped"], written);
  EXPECT_EQ(report["ok"], 60 - written);
  EXPECT_EQ(cluster->GetJson("/stats")["jobs_done"].get<int>() - done_before, 60 - written) << "only the rest ran";
  for (int i = 0; i < 60; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/img_%03d.png", i);
    EXPECT_EQ(MaxAbsDiff(DecodeBytes(ReadFile(out.path() + name)), Nearest2x(images[i])), 0) << name;
  }
}

TEST(ClientE2eTest, FinishesEveryFileThroughAFullQueue) {
  auto cluster = Cluster::Start(2, {"--model", "simulated:50", "--max-queue", "2"});
  ASSERT_NE(cluster, nullptr);
  TempDir in;
  TempDir out;
  WriteSmallImages(in.path(), 40);
  std::string report_text;
  ASSERT_EQ(RunCommand(ClientCommand(*cluster, "--batch " + in.path() + " --output " + out.path() +
                                                   " -ps 64 -j 16 --json 2>/dev/null"),
                       &report_text),
            0);
  const nlohmann::json report = nlohmann::json::parse(report_text);
  EXPECT_EQ(report["ok"], 40);
  EXPECT_EQ(CountFiles(out.path()), 40);
  int retried = 0;
  for (const auto& file : report["files"]) retried += file["attempts"].get<int>() > 1 ? 1 : 0;
  EXPECT_GT(retried, 0) << "16 in flight against 2 workers and a queue of 2: some were refused and retried";
  const std::string metrics = cluster->http().Get("/metrics")->body;
  EXPECT_NE(metrics.find("tsdsr_http_requests_total{code=\"503\",endpoint=\"/upscale\"}"), std::string::npos);
}

TEST(ClientE2eTest, WatchModeTakesNewFilesWaitsForHalfWrittenOnesAndResumes) {
  auto cluster = Cluster::Start(1);
  ASSERT_NE(cluster, nullptr);
  TempDir inbox;
  TempDir out;
  const std::vector<std::string> watch = {Program("tsdsr-client"),
                                          "--port",
                                          std::to_string(cluster->port()),
                                          "--watch",
                                          inbox.path(),
                                          "--output",
                                          out.path(),
                                          "-ps",
                                          "64"};
  auto client = std::make_unique<TestProcess>(watch);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // watching by now
  WriteFile(inbox.File(".a.png.part"), EncodePng(TestImage(20, 20, 1)));
  fs::rename(inbox.File(".a.png.part"), inbox.File("a.png"));  // moved in
  EXPECT_TRUE(WaitForFile(out.File("a.png")));
  EXPECT_TRUE(WaitForFile(inbox.File("done/a.png")));

  const std::string b = EncodePng(TestImage(30, 20, 2));
  {
    std::ofstream writing(inbox.File("b.png"), std::ios::binary);
    writing.write(b.data(), static_cast<std::streamsize>(b.size() / 2));
    writing.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_FALSE(fs::exists(out.File("b.png"))) << "a file still being written is left alone";
    EXPECT_TRUE(fs::exists(inbox.File("b.png")));
    writing.write(b.data() + b.size() / 2, static_cast<std::streamsize>(b.size() - b.size() / 2));
  }
  ASSERT_TRUE(WaitForFile(out.File("b.png")));
  EXPECT_EQ(DecodeBytes(ReadFile(out.File("b.png"))).cols, 60);

  WriteFile(inbox.File("c.png"), "not an image");
  EXPECT_TRUE(WaitForFile(inbox.File("failed/c.png")));
  EXPECT_TRUE(WaitForFile(inbox.File("failed/c.png.error.txt")));
  EXPECT_FALSE(ReadFile(inbox.File("failed/c.png.error.txt")).empty());

  client->Signal(SIGTERM);
  EXPECT_EQ(client->Wait(std::chrono::seconds(20)), "exit code 0");
  WriteFile(inbox.File("d.png"), EncodePng(TestImage(16, 16, 4)));  // while nobody watches
  client = std::make_unique<TestProcess>(watch);
  EXPECT_TRUE(WaitForFile(out.File("d.png"))) << "picked up after the restart";
  EXPECT_TRUE(WaitForFile(inbox.File("done/d.png")));
  EXPECT_FALSE(fs::exists(inbox.File("a.png"))) << "done files are not done again";
  client->Signal(SIGTERM);
  EXPECT_EQ(client->Wait(std::chrono::seconds(20)), "exit code 0");
}

TEST(ClientE2eTest, AnAsyncBatchSurvivesTheClientBeingKilled) {
  auto cluster = Cluster::Start(2, {"--model", "simulated:200"});
  ASSERT_NE(cluster, nullptr);
  TempDir in;
  TempDir out;
  const std::vector<cv::Mat> images = WriteSmallImages(in.path(), 12);
  {
    TestProcess first({Program("tsdsr-client"), "--port", std::to_string(cluster->port()), "--batch", in.path(),
                       "--output", out.path(), "-ps", "64", "--async", "-j", "12"});
    ASSERT_TRUE(WaitForFile(out.File(".tsdsr-client-jobs.json")));
    for (int i = 0; i < 1000 && CountFiles(out.path()) < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    first.Signal(SIGKILL);
    first.Wait(std::chrono::seconds(10));
  }
  ASSERT_LT(CountFiles(out.path()), 12);
  std::string report_text;
  ASSERT_EQ(RunCommand(ClientCommand(*cluster, "--batch " + in.path() + " --output " + out.path() +
                                                   " -ps 64 --async --json 2>/dev/null"),
                       &report_text),
            0);
  EXPECT_EQ(CountFiles(out.path()), 12);
  EXPECT_FALSE(fs::exists(out.File(".tsdsr-client-jobs.json"))) << "no job left to follow";
  EXPECT_EQ(cluster->GetJson("/jobs?limit=100")["jobs"].size(), 12u) << "followed, not submitted again";
  for (int i = 0; i < 12; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/img_%03d.png", i);
    EXPECT_EQ(MaxAbsDiff(DecodeBytes(ReadFile(out.path() + name)), Nearest2x(images[i])), 0) << name;
  }
}

}  // namespace
}  // namespace tsdsr::testing

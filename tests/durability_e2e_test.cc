// What an accepted async job survives: the dispatcher killed with SIGKILL while jobs are queued, running and done,
// and a data dir on a full file system.
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

int CountWithStatus(Cluster& cluster, const std::string& status) {
  return cluster.GetJson("/stats")["jobs"]["by_status"][status].get<int>();
}

TEST(DurabilityE2eTest, ThirtyJobsSurviveADispatcherKilledWithSigkill) {
  TempDir data;
  const std::vector<std::string> flags = {"--data-dir", data.path(), "--model", "simulated:60"};
  std::vector<cv::Mat> inputs;
  std::vector<std::string> ids;
  {
    auto cluster = Cluster::Start(2, flags);
    ASSERT_NE(cluster, nullptr);
    for (int i = 0; i < 30; ++i) {
      inputs.push_back(TestImage(90, 60, 300 + i));
      ids.push_back(JobIdOf(PostJob(cluster->http(), EncodePng(inputs.back()), "process_size=64")));
    }
    for (int i = 0; i < 1000 && CountWithStatus(*cluster, "succeeded") < 6; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const nlohmann::json before = cluster->GetJson("/stats")["jobs"]["by_status"];
    EXPECT_GE(before["succeeded"].get<int>(), 6);
    EXPECT_GT(before["queued"].get<int>(), 0) << "killed with work still waiting: " << before.dump();
    ASSERT_EQ(kill(cluster->pid(), SIGKILL), 0);
    EXPECT_EQ(cluster->WaitForExit(std::chrono::seconds(10)), "signal 9");
  }
  auto cluster = Cluster::Start(2, flags);
  ASSERT_NE(cluster, nullptr) << "a restart on the same data dir";
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE("job " + std::to_string(i));
    const nlohmann::json job = WaitForJob(cluster->http(), ids[i]);
    ASSERT_EQ(job["status"], "succeeded") << job.dump();
    auto result = cluster->http().Get("/jobs/" + ids[i] + "/result");
    ASSERT_EQ(result->status, 200);
    EXPECT_EQ(MaxAbsDiff(DecodeBytes(result->body), Nearest2x(inputs[i])), 0);
  }
  EXPECT_EQ(cluster->GetJson("/jobs?limit=100")["jobs"].size(), 30u) << "every job once, none lost or doubled";
  cluster->WaitForJson("/stats", [](const nlohmann::json& s) { return s["jobs"]["by_status"]["succeeded"] == 30; });
}

// A small tmpfs mounted for the test, unmounted (lazily, if something still holds it) at the end.
class SmallFileSystem {
 public:
  SmallFileSystem(const std::string& path, const std::string& size) : path_(path) {
    mounted_ = RunCommand("mount -t tmpfs -o size=" + size + " tmpfs " + path_) == 0;
  }
  ~SmallFileSystem() {
    if (mounted_ && ::umount(path_.c_str()) != 0) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Writes `path` until the file system says it is full.
void FillUp(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(1 << 16, '\xff');
  while (out.write(block.data(), block.size())) {
  }
}

TEST(DurabilityE2eTest, AFullDiskAnswers507AndLosesNothingStored) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir dir;
  const std::string data = dir.File("data");
  ASSERT_EQ(RunCommand("mkdir -p " + data), 0);
  SmallFileSystem fs(data, "12m");
  ASSERT_TRUE(fs.mounted());
  std::vector<cv::Mat> inputs;
  std::vector<std::string> ids;
  {
    auto cluster = Cluster::Start(1, {"--data-dir", data, "--model", "simulated:1"});
    ASSERT_NE(cluster, nullptr);
    for (int i = 0; i < 3; ++i) {
      inputs.push_back(TestImage(64, 48, 40 + i));
      ids.push_back(JobIdOf(PostJob(cluster->http(), EncodePng(inputs.back()))));
      ASSERT_EQ(WaitForJob(cluster->http(), ids.back())["status"], "succeeded");
    }
    FillUp(data + "/filler");
    auto refused = PostJob(cluster->http(), EncodePng(TestImage(64, 48, 9)));
    EXPECT_EQ(refused.status, 507) << refused.body;
    EXPECT_EQ(JsonOf(refused)["code"], "insufficient_storage");
    EXPECT_NE(JsonOf(refused)["error"].get<std::string>().find(data), std::string::npos) << "names the data dir";
    client::HttpRequest batch;
    batch.method = "POST";
    batch.path = "/upscale_batch";
    batch.parts.push_back({"files", "a.png", "image/png", EncodePng(TestImage(64, 48, 10))});
    auto batch_answer = cluster->http().Send(batch);
    ASSERT_EQ(batch_answer->status, 200) << "the batch is answered, its file says why it has no output";
    EXPECT_EQ(JsonOf(*batch_answer)["results"][0]["code"], "insufficient_storage") << batch_answer->body;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto result = cluster->http().Get("/jobs/" + ids[i] + "/result");
      ASSERT_EQ(result->status, 200) << "stored outputs stay readable";
      EXPECT_EQ(MaxAbsDiff(DecodeBytes(result->body), Nearest2x(inputs[i])), 0);
    }
    EXPECT_EQ(cluster->http().Get("/health")->status, 200) << "and the service keeps serving";
    ASSERT_EQ(std::remove((data + "/filler").c_str()), 0);
    const std::string after = JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(64, 48, 11))));
    EXPECT_EQ(WaitForJob(cluster->http(), after)["status"], "succeeded") << "space again, jobs again";
    ids.push_back(after);
    inputs.push_back(TestImage(64, 48, 11));
  }
  auto cluster = Cluster::Start(1, {"--data-dir", data, "--model", "simulated:1"});
  ASSERT_NE(cluster, nullptr) << "the database opens after the episode";
  EXPECT_EQ(cluster->GetJson("/jobs")["jobs"].size(), 4u);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto result = cluster->http().Get("/jobs/" + ids[i] + "/result");
    ASSERT_EQ(result->status, 200);
    EXPECT_EQ(MaxAbsDiff(DecodeBytes(result->body), Nearest2x(inputs[i])), 0);
  }
}

}  // namespace
}  // namespace tsdsr::testing

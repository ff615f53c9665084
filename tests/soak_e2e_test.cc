// A soak: mixed traffic (single images of every format and odd sizes, batches, async jobs, clients that hang up)
// through a real dispatcher while a worker is killed every few seconds. Every request gets the answer it should,
// no async job is lost, and afterwards the dispatcher's memory, threads and open files are back within
// kMargin of where they were after warming up. CI runs it for about a minute; scripts/soak --long runs it for 30
// minutes (TSDSR_SOAK_SECONDS sets any length).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/harness.h"
#include "tests/process_usage.h"

namespace tsdsr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// What may stay behind once traffic stops: heap kept by the allocator, a restarted worker's supervision.
struct Margin {
  std::int64_t rss_bytes = 48 << 20;
  int threads = 2;
  int open_files = 8;
};
constexpr Margin kMargin;

int SoakSeconds() {
  const char* text = std::getenv("TSDSR_SOAK_SECONDS");
  return text != nullptr ? std::max(10, std::atoi(text)) : 45;
}

// Counts of what the traffic got, and every answer that was not the one expected.
struct Tally {
  std::mutex mu;
  std::map<std::string, int> done;        // guarded by mu: by kind of request
  std::vector<std::string> wrong;         // guarded by mu
  std::vector<std::string> async_ids;     // guarded by mu
  void Count(const std::string& kind) {
    std::lock_guard<std::mutex> lock(mu);
    done[kind] += 1;
  }
  void Wrong(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (wrong.size() < 20) wrong.push_back(what);
  }
};

// One client's loop of random requests until `stop`.
void Traffic(Cluster& cluster, Tally& tally, unsigned seed, const std::atomic<bool>& stop) {
  const std::vector<ImageFile> files = MixedImages();
  std::mt19937 random(seed);
  auto http = client::HttpClient::Create(cluster.base_url(), seconds(60));
  ASSERT_TRUE(http.ok());
  while (!stop.load()) {
    const ImageFile& file = files[random() % files.size()];
    const bool broken = file.name == files[kBrokenImage].name;
    switch (random() % 4) {
      case 0: {  // one image, answered at once
        auto answer = UpscaleDirect(**http, file, "upscale=2&process_size=64&format=png");
        const long expected = broken ? 400 : 200;
        if (answer.status != expected) tally.Wrong("/upscale " + file.name + ": " + std::to_string(answer.status));
        tally.Count("upscale");
        break;
      }
      case 1: {  // an async job, checked at the end
        if (broken) break;
        auto accepted = PostJob(**http, file.bytes, "upscale=2&process_size=64", "", file.name);
        if (accepted.status != 202) {
          tally.Wrong("/jobs " + file.name + ": " + std::to_string(accepted.status));
        } else {
          std::lock_guard<std::mutex> lock(tally.mu);
          tally.async_ids.push_back(JsonOf(accepted)["id"]);
        }
        tally.Count("jobs");
        break;
      }
      case 2: {  // a batch of three
        std::vector<client::FilePart> parts;
        for (int i = 0; i < 3; ++i) {
          const ImageFile& f = files[random() % files.size()];
          if (f.name != files[kBrokenImage].name) parts.push_back({"files", f.name, f.type, f.bytes});
        }
        auto batch = (*http)->PostMultipart("/upscale_batch?upscale=2&process_size=64", parts);
        if (!batch.ok() || batch->status != 200 || JsonOf(*batch)["successful"] != parts.size()) {
          tally.Wrong("/upscale_batch: " + (batch.ok() ? batch->body.substr(0, 200) : batch.status().ToString()));
        }
        tally.Count("batch");
        break;
      }
      default: {  // a client that hangs up before its answer
        auto impatient = client::HttpClient::Create(cluster.base_url(), milliseconds(30));
        (void)(*impatient)->PostMultipart("/upscale?upscale=4&process_size=64",
                                         {{"file", "big.png", "image/png", EncodePng(TestImage(400, 300, seed))}});
        tally.Count("hang-up");
      }
    }
  }
}

// Kills one local worker every `every` until `stop`; the supervisor starts it again.
void KillWorkers(Cluster& cluster, Tally& tally, milliseconds every, const std::atomic<bool>& stop) {
  int victim = 0;
  auto next = Clock::now() + every;
  while (!stop.load()) {
    std::this_thread::sleep_for(milliseconds(100));
    if (Clock::now() < next) continue;
    next = Clock::now() + every;
    const std::vector<int> pids = cluster.WorkerPids();
    if (pids.size() < 2) continue;  // one is still coming back: the other serves meanwhile
    ::kill(pids[size_t(victim++) % pids.size()], SIGKILL);
    tally.Count("worker killed");
  }
}

// Runs the traffic (and the killer, when `kill_every` is not zero) for `duration`.
void RunTraffic(Cluster& cluster, Tally& tally, seconds duration, milliseconds kill_every) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < 4; ++i) threads.emplace_back(Traffic, std::ref(cluster), std::ref(tally), 7 + i, std::cref(stop));
  if (kill_every.count() > 0) threads.emplace_back(KillWorkers, std::ref(cluster), std::ref(tally), kill_every, std::cref(stop));
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& t : threads) t.join();
}

// The dispatcher's usage once the traffic has stopped and the pool has settled.
ProcessUsage Settled(Cluster& cluster) {
  cluster.WaitForJson("/stats", [](const nlohmann::json& stats) {
    return stats["queue_depth"] == 0 && stats["in_flight"] == 0 && stats["jobs"]["waiting"] == 0;
  }, seconds(120));
  EXPECT_TRUE(cluster.WaitForWorkers(2, seconds(60)));
  cluster.WaitForJson("/info", [](const nlohmann::json& info) {
    return info["limits"]["connections"]["open"].get<int>() <= 2;  // closing connections have lingered and gone
  }, seconds(30));
  return UsageOf(cluster.pid());
}

TEST(SoakE2eTest, MixedTrafficWithWorkersKilledLosesNothingAndLeaksNothing) {
  auto cluster = Cluster::Start(2, {"--model", "bicubic"});
  ASSERT_NE(cluster, nullptr);
  Tally warmup;
  RunTraffic(*cluster, warmup, seconds(5), milliseconds(0));
  const ProcessUsage before = Settled(*cluster);
  ASSERT_TRUE(before.ok);

  Tally tally;
  const int soak_s = SoakSeconds();
  RunTraffic(*cluster, tally, seconds(soak_s), milliseconds(std::min(10000, soak_s * 1000 / 4)));
  for (const std::string& id : tally.async_ids) {
    const nlohmann::json job = WaitForJob(cluster->http(), id, {}, seconds(120));
    if (job["status"] != "succeeded") tally.Wrong("job " + id + " ended " + job.dump().substr(0, 200));
  }
  const ProcessUsage after = Settled(*cluster);
  for (const std::string& wrong : tally.wrong) ADD_FAILURE() << wrong;
  std::string counts;
  for (const auto& [kind, count] : tally.done) counts += " " + kind + " " + std::to_string(count) + ";";
  std::printf("[ figures  ] %d s:%s dispatcher before: %s; after: %s\n", soak_s, counts.c_str(),
              Describe(before).c_str(), Describe(after).c_str());
  EXPECT_GE(tally.done["worker killed"], 3);
  EXPECT_GE(tally.done["jobs"], 10);
  EXPECT_LE(after.rss_bytes, before.rss_bytes + kMargin.rss_bytes);
  EXPECT_LE(after.threads, before.threads + kMargin.threads);
  EXPECT_LE(after.open_files, before.open_files + kMargin.open_files);
}

}  // namespace
}  // namespace tsdsr::testing

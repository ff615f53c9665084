// Durable asynchronous jobs through a real dispatcher and real workers: the lifecycle with progress, cancelling
// while queued and while running, idempotent retries, listing, server-sent events, expiry and the size cap.
#include <cstdio>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

std::string StatusOf(const nlohmann::json& job) { return job.value("status", ""); }

TEST(JobsE2eTest, QueuedThenRunningThenSucceededWithRisingProgress) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:40"});
  ASSERT_NE(cluster, nullptr);
  const cv::Mat input = TestImage(240, 180, 5);
  auto submitted = PostJob(cluster->http(), EncodePng(input), "upscale=2&process_size=64");
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  const nlohmann::json accepted = JsonOf(submitted);
  EXPECT_EQ(StatusOf(accepted), "queued");
  const std::string id = accepted["id"];
  EXPECT_EQ(submitted.Header("location"), "/jobs/" + id);
  EXPECT_EQ(accepted["url"], "/jobs/" + id);

  std::vector<std::string> states;
  std::vector<int> done;
  int total = 0;
  const nlohmann::json last = WaitForJob(cluster->http(), id, [&](const nlohmann::json& job) {
    if (states.empty() || states.back() != StatusOf(job)) states.push_back(StatusOf(job));
    if (StatusOf(job) == "running") {
      done.push_back(job["progress"]["done"].get<int>());
      total = job["progress"]["total"].get<int>();
    }
    return StatusOf(job) == "succeeded" || StatusOf(job) == "failed";
  });
  ASSERT_EQ(StatusOf(last), "succeeded") << last.dump();
  EXPECT_EQ(states.back(), "succeeded");
  EXPECT_NE(std::find(states.begin(), states.end(), "running"), states.end());
  ASSERT_GT(total, 4) << "a frame of many tiles";
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end())) << "progress never goes back";
  EXPECT_TRUE(std::any_of(done.begin(), done.end(), [&](int d) { return d > 0 && d < total; }))
      << "progress was seen between the first and the last tile";
  EXPECT_EQ(last["output_size"], "480x360");
  EXPECT_EQ(last["progress"]["done"], last["progress"]["total"]);
  EXPECT_FALSE(last["worker"].is_null());
  EXPECT_FALSE(last["started"].is_null());
  EXPECT_FALSE(last["finished"].is_null());
  EXPECT_EQ(last["result_url"], "/jobs/" + id + "/result");

  auto result = cluster->http().Get("/jobs/" + id + "/result");
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(result->Header("content-type"), "image/png");
  EXPECT_EQ(result->Header("x-output-size"), "480x360");
  EXPECT_EQ(MaxAbsDiff(DecodeBytes(result->body), Nearest2x(input)), 0);
}

TEST(JobsE2eTest, CancelWhileQueuedAndWhileRunning) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:150"});
  ASSERT_NE(cluster, nullptr);
  const std::string long_one = JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(300, 200, 1)), "process_size=64"));
  std::vector<std::string> short_ones;
  for (int i = 0; i < 5; ++i) {
    short_ones.push_back(JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(20, 20, 10 + i)), "process_size=64")));
  }
  // One worker with two slots takes four jobs into the pool; the last one waits in the dispatcher.
  const nlohmann::json waiting = cluster->GetJson("/jobs/" + short_ones.back());
  ASSERT_EQ(StatusOf(waiting), "queued");
  EXPECT_FALSE(waiting["position"].is_null());
  auto cancel_queued = cluster->http().Delete("/jobs/" + short_ones.back());
  ASSERT_TRUE(cancel_queued.ok());
  ASSERT_EQ(cancel_queued->status, 200) << cancel_queued->body;
  EXPECT_EQ(StatusOf(JsonOf(*cancel_queued)), "cancelled");

  WaitForJob(cluster->http(), long_one, [](const nlohmann::json& job) { return job["progress"]["done"] > 0; });
  auto cancel_running = cluster->http().Delete("/jobs/" + long_one);
  ASSERT_EQ(cancel_running->status, 200) << cancel_running->body;
  EXPECT_EQ(StatusOf(JsonOf(*cancel_running)), "cancelled");
  // The worker stops it and goes on with the next: it reports the cancelled job as failed.
  for (int i = 0; i < 300; ++i) {
    const nlohmann::json info = cluster->GetJson("/info");
    if (info["workers"][0]["live"]["jobs_failed"].get<int>() >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(cluster->GetJson("/info")["workers"][0]["live"]["jobs_failed"].get<int>(), 1);
  for (size_t i = 0; i + 1 < short_ones.size(); ++i) {
    EXPECT_EQ(StatusOf(WaitForJob(cluster->http(), short_ones[i])), "succeeded") << i;
  }
  for (const std::string& id : {long_one, short_ones.back()}) {
    EXPECT_EQ(StatusOf(cluster->GetJson("/jobs/" + id)), "cancelled");
    auto result = cluster->http().Get("/jobs/" + id + "/result");
    EXPECT_EQ(result->status, 409);
    EXPECT_EQ(JsonOf(*result)["status"], "cancelled");
    EXPECT_EQ(cluster->http().Delete("/jobs/" + id)->status, 409) << "cancelled already";
  }
}

TEST(JobsE2eTest, AnIdempotencyKeyMakesARetryReturnTheSameJob) {
  auto cluster = Cluster::Start(1);
  ASSERT_NE(cluster, nullptr);
  const std::string png = EncodePng(TestImage(30, 20, 3));
  auto first = PostJob(cluster->http(), png, "upscale=2", "upload-7f3a");
  auto retry = PostJob(cluster->http(), png, "upscale=2", "upload-7f3a");
  ASSERT_EQ(retry.status, 202);
  EXPECT_EQ(JobIdOf(retry), JobIdOf(first));
  EXPECT_EQ(retry.Header("idempotent-replayed"), "true");
  auto other = PostJob(cluster->http(), EncodePng(TestImage(30, 20, 4)), "upscale=2", "upload-7f3a");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(PostJob(cluster->http(), png, "upscale=2", std::string(201, 'k')).status, 400);
  WaitForJob(cluster->http(), JobIdOf(first));
  EXPECT_EQ(cluster->GetJson("/jobs")["jobs"].size(), 1u) << "one job, however often it was sent";
}

TEST(JobsE2eTest, ListsNewestFirstInPagesAndByStatus) {
  auto cluster = Cluster::Start(2);
  ASSERT_NE(cluster, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(16, 16, i)))));
  for (const auto& id : ids) ASSERT_EQ(StatusOf(WaitForJob(cluster->http(), id)), "succeeded");
  const nlohmann::json page1 = cluster->GetJson("/jobs?limit=2");
  ASSERT_EQ(page1["jobs"].size(), 2u);
  EXPECT_EQ(page1["jobs"][0]["id"], ids[4]);
  EXPECT_EQ(page1["jobs"][1]["id"], ids[3]);
  const nlohmann::json page2 = cluster->GetJson("/jobs?limit=2&after=" + page1["next"].get<std::string>());
  EXPECT_EQ(page2["jobs"][0]["id"], ids[2]);
  const nlohmann::json page3 = cluster->GetJson("/jobs?limit=2&after=" + page2["next"].get<std::string>());
  ASSERT_EQ(page3["jobs"].size(), 1u);
  EXPECT_EQ(page3["jobs"][0]["id"], ids[0]);
  EXPECT_TRUE(page3["next"].is_null());
  EXPECT_EQ(cluster->GetJson("/jobs?status=succeeded")["jobs"].size(), 5u);
  EXPECT_EQ(cluster->GetJson("/jobs?status=failed")["jobs"].size(), 0u);
  long status = 0;
  cluster->GetJson("/jobs?status=done", &status);
  EXPECT_EQ(status, 400);
  cluster->GetJson("/jobs?limit=0", &status);
  EXPECT_EQ(status, 400);
  cluster->WaitForJson("/stats", [](const nlohmann::json& s) { return s["jobs"]["by_status"]["succeeded"] == 5; });
  auto metrics = cluster->http().Get("/metrics");
  EXPECT_NE(metrics->body.find("tsdsr_stored_jobs{status=\"succeeded\"} 5"), std::string::npos) << metrics->body;
}

TEST(JobsE2eTest, ServerSentEventsFollowAJobToItsEnd) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:40"});
  ASSERT_NE(cluster, nullptr);
  const std::string id =
      JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(200, 150, 2)), "upscale=2&process_size=64"));
  std::string stream;
  const int rc = RunCommand("curl -sN --max-time 60 " + cluster->base_url() + "/jobs/" + id + "/events", &stream);
  EXPECT_EQ(rc, 0) << "the stream ends by itself when the job does";
  EXPECT_NE(stream.find("event: status\ndata: {"), std::string::npos) << stream;
  EXPECT_NE(stream.find("event: progress\ndata: {"), std::string::npos) << stream;
  EXPECT_NE(stream.find("\"status\":\"running\""), std::string::npos);
  const size_t last = stream.rfind("event: status\ndata: ");
  ASSERT_NE(last, std::string::npos);
  EXPECT_NE(stream.find("\"status\":\"succeeded\"", last), std::string::npos) << "the last event is the end";
  std::string again;
  RunCommand("curl -sN --max-time 10 " + cluster->base_url() + "/jobs/" + id + "/events", &again);
  EXPECT_NE(again.find("\"status\":\"succeeded\""), std::string::npos) << "a finished job: one event, then the end";
  std::string missing;
  RunCommand(
      "curl -s -o /dev/null -w '%{http_code}' " + cluster->base_url() + "/jobs/" + std::string(32, 'a') + "/events",
      &missing);
  EXPECT_EQ(missing, "404");
}

TEST(JobsE2eTest, OutputsExpireAfterTheTtl) {
  auto cluster = Cluster::Start(1, {"--result-ttl", "1s"});
  ASSERT_NE(cluster, nullptr);
  const std::string id = JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(16, 16, 1))));
  ASSERT_EQ(StatusOf(WaitForJob(cluster->http(), id)), "succeeded");
  long status = 0;
  for (int i = 0; i < 500; ++i) {
    status = cluster->http().Get("/jobs/" + id + "/result")->status;
    if (status == 410) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(status, 410);
  auto gone = cluster->http().Get("/jobs/" + id + "/result");
  EXPECT_EQ(JsonOf(*gone)["code"], "gone");
  EXPECT_NE(JsonOf(*gone)["error"].get<std::string>().find("expired"), std::string::npos);
  const nlohmann::json job = cluster->GetJson("/jobs/" + id);
  EXPECT_EQ(job["result"], "expired");
  EXPECT_TRUE(job["result_url"].is_null());
}

TEST(JobsE2eTest, TheSizeCapEvictsTheEarliestFinishedFirst) {
  TempDir data;
  const std::string png = EncodePng(TestImage(40, 40, 9));  // the same image: outputs of the same size
  std::vector<std::string> ids;
  std::int64_t size = 0;
  {
    auto cluster = Cluster::Start(1, {"--data-dir", data.path()});
    ASSERT_NE(cluster, nullptr);
    for (int i = 0; i < 3; ++i) {
      ids.push_back(JobIdOf(PostJob(cluster->http(), png, "", "", "frame" + std::to_string(i) + ".png")));
      ASSERT_EQ(StatusOf(WaitForJob(cluster->http(), ids.back())), "succeeded");
    }
    size = static_cast<std::int64_t>(cluster->http().Get("/jobs/" + ids[0] + "/result")->body.size());
  }
  char cap[32];
  std::snprintf(cap, sizeof(cap), "%.12g", 2.5 * double(size) / 1e9);  // room for two outputs, not three
  auto cluster = Cluster::Start(1, {"--data-dir", data.path(), "--result-max-gb", cap});
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->http().Get("/jobs/" + ids[0] + "/result")->status, 410) << "evicted at start";
  ids.push_back(JobIdOf(PostJob(cluster->http(), png)));
  ASSERT_EQ(StatusOf(WaitForJob(cluster->http(), ids.back())), "succeeded");
  long status = 0;
  for (int i = 0; i < 500 && status != 410; ++i) {
    status = cluster->http().Get("/jobs/" + ids[1] + "/result")->status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 410) << "the next earliest went when the fourth came";
  EXPECT_EQ(cluster->GetJson("/jobs/" + ids[1])["result"], "evicted");
  EXPECT_EQ(cluster->http().Get("/jobs/" + ids[2] + "/result")->status, 200);
  EXPECT_EQ(cluster->http().Get("/jobs/" + ids[3] + "/result")->status, 200);
  cluster->WaitForJson("/stats", [](const nlohmann::json& s) { return s["jobs"]["store"]["results"] == 2; });
}

TEST(JobsE2eTest, BadRequestsAndUnknownJobs) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:300"});
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(PostJob(cluster->http(), EncodePng(TestImage(8, 8)), "upscale=3").status, 400);
  EXPECT_EQ(PostJob(cluster->http(), "not an image at all").status, 400);
  EXPECT_EQ(cluster->http().PostRaw("/jobs", "text/plain", "hello")->status, 415);
  EXPECT_EQ(cluster->http().Get("/jobs/not-an-id")->status, 404);
  EXPECT_EQ(cluster->http().Get("/jobs/" + std::string(32, '0'))->status, 404);
  EXPECT_EQ(cluster->http().Get("/jobs/" + std::string(32, '0') + "/result")->status, 404);
  EXPECT_EQ(cluster->http().Delete("/jobs/" + std::string(32, '0'))->status, 404);
  const std::string id = JobIdOf(PostJob(cluster->http(), EncodePng(TestImage(150, 150, 1)), "process_size=64"));
  auto early = cluster->http().Get("/jobs/" + id + "/result");
  EXPECT_EQ(early->status, 409);
  const std::string state = JsonOf(*early)["status"];
  EXPECT_TRUE(state == "queued" || state == "running") << state;
}

TEST(JobsE2eTest, EveryJobAndResultRouteNeedsTheApiKey) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  auto cluster = Cluster::Start(1, {"--api-key", key});
  ASSERT_NE(cluster, nullptr);
  const std::string png = EncodePng(TestImage(16, 16));
  EXPECT_EQ(PostJob(cluster->http(), png).status, 401);
  EXPECT_EQ(cluster->http().Get("/jobs")->status, 401);
  client::HttpRequest batch;
  batch.method = "POST";
  batch.path = "/upscale_batch";
  batch.parts.push_back({"files", "a.png", "image/png", png});
  EXPECT_EQ(cluster->http().Send(batch)->status, 401);
  cluster->http().SetDefaultHeader("Authorization", "Bearer " + key);
  const std::string id = JobIdOf(PostJob(cluster->http(), png));
  ASSERT_EQ(StatusOf(WaitForJob(cluster->http(), id)), "succeeded");
  EXPECT_EQ(cluster->http().Send(batch)->status, 200);
  cluster->http().SetDefaultHeader("Authorization", "Bearer wrong-key-wrong-key-wrong");
  for (const std::string& path : {"/jobs/" + id, "/jobs/" + id + "/result", "/jobs/" + id + "/events"}) {
    EXPECT_EQ(cluster->http().Get(path)->status, 401) << path;
  }
  EXPECT_EQ(cluster->http().Delete("/jobs/" + id)->status, 401);
}

}  // namespace
}  // namespace tsdsr::testing

#include "client/async_job.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/files.h"
#include "client/job_state.h"
#include "client/testing_client_fixture.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::CannedResponse;
using testing::ImageAnswer;
using testing::JsonAnswer;
using testing::JsonError;
using testing::PngBytes;
using testing::ReadAll;
using testing::RecordedRequest;
using testing::TestingHttpServer;
using testing::WriteBytes;

std::string JobJson(const std::string& id, const std::string& status, int done, int total,
                    const std::string& error = "") {
  nlohmann::json job = {
      {"id", id},
      {"status", status},
      {"position", status == "queued" ? nlohmann::json(3) : nlohmann::json()},
      {"progress", {{"done", done}, {"total", total}}},
      {"output_size", status == "succeeded" ? nlohmann::json("8x6") : nlohmann::json()},
      {"error", error.empty() ? nlohmann::json() : nlohmann::json(error)},
      {"result_url", status == "succeeded" ? nlohmann::json("/jobs/" + id + "/result") : nlohmann::json()}};
  return job.dump();
}

// The job API of the dispatcher: POST /jobs accepts job `id`; GET /jobs/{id} answers the next of `states`
// (the last one repeats); the result is `result`. Other ids are unknown (404).
struct FakeJobApi {
  std::string id = "j1";
  std::vector<std::string> states = {"queued", "running", "succeeded"};
  std::string error;
  bool drop_polls = false;  // polls get no answer at all
  std::atomic<int> polls{0};

  CannedResponse operator()(const RecordedRequest& request) {
    if (request.method == "POST" && request.target.rfind("/jobs?", 0) == 0) {
      CannedResponse accepted =
          JsonAnswer(202, R"({"id": ")" + id + R"(", "status": "queued", "url": "/jobs/)" + id + R"("})");
      accepted.headers.emplace_back("Location", "/jobs/" + id);
      return accepted;
    }
    if (request.method == "GET" && request.target == "/jobs/" + id + "/result") return ImageAnswer("result bytes");
    if (request.method == "GET" && request.target == "/jobs/" + id) {
      if (drop_polls) {
        CannedResponse dropped;
        dropped.close_without_reply = true;
        return dropped;
      }
      std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(polls++), states.size() - 1);
      return JsonAnswer(200, JobJson(id, states[n], static_cast<int>(n) * 2, 4, error));
    }
    return JsonError(404, "Not Found", "no such job");
  }
};

std::vector<std::string> Targets(const TestingHttpServer& server) {
  std::vector<std::string> targets;
  for (const RecordedRequest& request : server.requests()) targets.push_back(request.method + " " + request.target);
  return targets;
}

class AsyncJobTest : public testing::ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    input_ = (dir_ / "photo.png").string();
    WriteBytes(input_, PngBytes(4, 3));
    output_ = (dir_ / "photo_x2.png").string();
  }
  std::string input_, output_;
};

TEST_F(AsyncJobTest, FollowsAJobFromQueuedThroughRunningToItsResult) {
  FakeJobApi api;
  TestingHttpServer server([&](const RecordedRequest& request) { return api(request); });
  tuning_.err_is_terminal = true;
  ASSERT_EQ(Run(server, {"-i", input_, "--async"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "wrote " + output_ + " (8x6)\n");
  EXPECT_EQ(ReadAll(output_), "result bytes");
  EXPECT_EQ(Targets(server), (std::vector<std::string>{"POST /jobs?upscale=2&process_size=128", "GET /jobs/j1",
                                                       "GET /jobs/j1", "GET /jobs/j1", "GET /jobs/j1/result"}));
  std::string key = server.requests()[0].headers["idempotency-key"];
  EXPECT_EQ(key, *IdempotencyKeyFor(input_, 2, 128, ""));
  EXPECT_NE(server.requests()[0].body.find("filename=\"photo.png\""), std::string::npos);
  EXPECT_EQ(sleep_.delays(), (std::vector<milliseconds>{milliseconds(250), milliseconds(500)}));
  EXPECT_NE(err_.str().find("] 2/4 tiles"), std::string::npos) << err_.str();
  EXPECT_EQ(err_.str().back(), '\n');
  EXPECT_FALSE(fs::exists(SingleStatePath(output_))) << "a finished job is forgotten";
}

TEST_F(AsyncJobTest, ARestartedClientFollowsTheJobItSubmittedInsteadOfSubmittingAgain) {
  FakeJobApi lost;
  lost.drop_polls = true;
  {
    TestingHttpServer server([&](const RecordedRequest& request) { return lost(request); });
    EXPECT_EQ(Run(server, {"-i", input_, "--async", "--retries", "1"}), kExitUnreachable);
    EXPECT_NE(err_.str().find(") (after 2 attempts)"), std::string::npos) << err_.str();
  }
  Result<std::unique_ptr<JobStateFile>> state = JobStateFile::Open(SingleStatePath(output_));
  ASSERT_TRUE(state.ok());
  std::optional<RememberedJob> remembered = (*state)->Find(AbsolutePath(input_));
  ASSERT_TRUE(remembered.has_value()) << "the job may still run: it is remembered";
  EXPECT_EQ(remembered->id, "j1");
  EXPECT_EQ(remembered->key, *IdempotencyKeyFor(input_, 2, 128, ""));

  FakeJobApi api;
  api.states = {"succeeded"};
  TestingHttpServer server([&](const RecordedRequest& request) { return api(request); });
  ASSERT_EQ(Run(server, {"-i", input_, "--async"}), kExitOk) << err_.str();
  EXPECT_EQ(Targets(server), (std::vector<std::string>{"GET /jobs/j1", "GET /jobs/j1/result"}));
  EXPECT_EQ(ReadAll(output_), "result bytes");
  EXPECT_FALSE(fs::exists(SingleStatePath(output_)));
}

TEST_F(AsyncJobTest, ABatchResubmitsAJobTheServerNoLongerKnows) {
  WriteBytes(dir_ / "in" / "a.png", PngBytes(4, 3));
  std::string a = (dir_ / "in" / "a.png").string();
  std::string state_path = BatchStatePath((dir_ / "out").string());
  fs::create_directories(dir_ / "out");
  ASSERT_TRUE(
      JobStateFile::Empty(state_path)->Remember(AbsolutePath(a), {"old", *IdempotencyKeyFor(a, 2, 128, "")}).ok());
  FakeJobApi api;
  api.id = "j2";
  api.states = {"running", "succeeded"};
  TestingHttpServer server([&](const RecordedRequest& request) { return api(request); });
  ASSERT_EQ(Run(server, {"--batch", (dir_ / "in").string(), "-o", (dir_ / "out").string(), "--async", "-j", "1"}),
            kExitOk)
      << err_.str() << out_.str();
  EXPECT_EQ(Targets(server), (std::vector<std::string>{"GET /jobs/old", "POST /jobs?upscale=2&process_size=128",
                                                       "GET /jobs/j2", "GET /jobs/j2", "GET /jobs/j2/result"}));
  EXPECT_EQ(ReadAll(dir_ / "out" / "a.png"), "result bytes");
  EXPECT_FALSE(fs::exists(state_path));
}

TEST_F(AsyncJobTest, AFailedJobIsReportedWithItsErrorAndForgotten) {
  WriteBytes(dir_ / "in" / "a.png", PngBytes(4, 3));
  FakeJobApi api;
  api.states = {"running", "failed"};
  api.error = "worker ran out of memory";
  TestingHttpServer server([&](const RecordedRequest& request) { return api(request); });
  EXPECT_EQ(
      Run(server, {"--batch", (dir_ / "in").string(), "-o", (dir_ / "out").string(), "--async", "-j", "1", "--json"}),
      kExitServerError);
  nlohmann::json report = nlohmann::json::parse(out_.str());
  EXPECT_EQ(report["files"][0]["error"], "job j1 failed: worker ran out of memory");
  EXPECT_EQ(report["files"][0]["attempts"], 3);
  EXPECT_FALSE(fs::exists(BatchStatePath((dir_ / "out").string())));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "a.png"));
}

TEST_F(AsyncJobTest, AKeyThatReplaysADeadJobMovesToTheNextKeySoARerunRetriesTheFile) {
  const std::string first_key = *IdempotencyKeyFor(input_, 2, 128, "");
  const std::string second_key = NextIdempotencyKey(first_key, "old");
  EXPECT_NE(second_key, first_key);
  EXPECT_EQ(second_key.size(), first_key.size());
  FakeJobApi api;
  api.id = "j2";
  api.states = {"succeeded"};
  TestingHttpServer server([&](const RecordedRequest& request) {
    auto key = request.headers.find("idempotency-key");
    if (request.method == "POST" && key != request.headers.end() && key->second == first_key) {
      return JsonAnswer(202, JobJson("old", "failed", 0, 4, "worker lost"));  // an earlier run's attempt
    }
    if (request.target == "/jobs/old") return JsonAnswer(200, JobJson("old", "failed", 0, 4, "worker lost"));
    return api(request);
  });
  ASSERT_EQ(Run(server, {"-i", input_, "--async"}), kExitOk) << err_.str();
  EXPECT_EQ(Targets(server),
            (std::vector<std::string>{"POST /jobs?upscale=2&process_size=128", "GET /jobs/old",
                                      "POST /jobs?upscale=2&process_size=128", "GET /jobs/j2", "GET /jobs/j2/result"}));
  EXPECT_EQ(server.requests()[2].headers["idempotency-key"], second_key);
  EXPECT_EQ(ReadAll(output_), "result bytes");
}

TEST_F(AsyncJobTest, ARefusedSubmissionIsAClientErrorAndNothingIsRemembered) {
  TestingHttpServer server(
      [](const RecordedRequest&) { return JsonError(413, "Payload Too Large", "too many pixels"); });
  EXPECT_EQ(Run(server, {"-i", input_, "--async"}), kExitClientError);
  EXPECT_EQ(err_.str(), "error: server answered 413: too many pixels\n");
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(fs::exists(SingleStatePath(output_)));
}

}  // namespace
}  // namespace tsdsr::client

#include "client/batch_runner.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
using testing::UploadedName;
using testing::WriteBytes;

// A folder `in/` of images and `out/` for the results.
class BatchTest : public testing::ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    in_ = (dir_ / "in").string();
    out_dir_ = (dir_ / "out").string();
    for (const char* name : {"a.png", "b.PNG", "c.jpg"}) WriteBytes(dir_ / "in" / name, PngBytes(4, 3));
    WriteBytes(dir_ / "in" / "notes.txt", "not an image, not matched");
    WriteBytes(dir_ / "in" / ".hidden.png", PngBytes(4, 3));
  }
  // Runs --batch in/ --output out/ with `extra` flags; one request at a time unless -j is in `extra`.
  int RunBatch(const TestingHttpServer& server, std::vector<std::string> extra) {
    std::vector<std::string> args = {"--batch", in_, "--output", out_dir_};
    if (std::find(extra.begin(), extra.end(), "-j") == extra.end()) args.insert(args.end(), {"-j", "1"});
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(server, args);
  }
  std::vector<std::string> UploadedNames(const TestingHttpServer& server) {
    std::vector<std::string> names;
    for (const RecordedRequest& request : server.requests()) {
      if (request.target.rfind("/upscale", 0) == 0) names.push_back(UploadedName(request));
    }
    return names;
  }

  std::string in_, out_dir_;
};

TEST_F(BatchTest, UpscalesEveryImageIntoTheOutputFolderWithTheFormatsExtension) {
  TestingHttpServer server([](const RecordedRequest&) { return ImageAnswer("jpeg bytes", "8x6"); });
  ASSERT_EQ(RunBatch(server, {"--format", "jpeg", "-u", "4", "-ps", "64"}), kExitOk) << err_.str();
  EXPECT_EQ(UploadedNames(server), (std::vector<std::string>{"a.png", "b.PNG", "c.jpg"}));
  EXPECT_EQ(server.requests().at(0).target, "/upscale?upscale=4&process_size=64&format=jpeg");
  EXPECT_NE(server.requests().at(0).body.find("Content-Type: image/png"), std::string::npos);
  for (const char* name : {"a.jpg", "b.jpg", "c.jpg"}) EXPECT_EQ(ReadAll(dir_ / "out" / name), "jpeg bytes") << name;
  EXPECT_FALSE(fs::exists(dir_ / "out" / "notes.jpg"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / ".hidden.jpg"));
  EXPECT_NE(err_.str().find("[1/3] ok " + (dir_ / "in" / "a.png").string() + " -> " +
                            (dir_ / "out" / "a.jpg").string() + " (8x6)\n"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(out_.str().rfind("3 ok, 0 skipped, 0 failed in ", 0), 0u) << out_.str();
}

TEST_F(BatchTest, CollidingNamesKeepTheirExtensionAndRecursiveMirrorsFolders) {
  WriteBytes(dir_ / "in" / "a.jpg", PngBytes(4, 3));
  WriteBytes(dir_ / "in" / "sub" / "d.webp", PngBytes(4, 3));
  TestingHttpServer server([](const RecordedRequest&) { return ImageAnswer("png bytes"); });
  ASSERT_EQ(RunBatch(server, {"--recursive", "-j", "3"}), kExitOk) << err_.str();
  for (const char* name : {"a.png.png", "a.jpg.png", "b.png", "c.png", "sub/d.png"}) {
    EXPECT_EQ(ReadAll(dir_ / "out" / name), "png bytes") << name;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out" / "a.png"));
}

TEST_F(BatchTest, BusyAnswersAreRetriedAsRetryAfterSays) {
  std::atomic<int> calls{0};
  TestingHttpServer server([&](const RecordedRequest&) {
    if (calls++ > 0) return ImageAnswer("png bytes");
    CannedResponse busy = JsonError(503, "Service Unavailable", "queue is full");
    busy.headers.emplace_back("Retry-After", "1");
    return busy;
  });
  fs::remove(dir_ / "in" / "b.PNG");
  fs::remove(dir_ / "in" / "c.jpg");
  ASSERT_EQ(RunBatch(server, {"--json"}), kExitOk) << err_.str();
  ASSERT_EQ(sleep_.delays().size(), 1u);
  EXPECT_GE(sleep_.delays()[0], milliseconds(1000));
  EXPECT_LE(sleep_.delays()[0], milliseconds(1200));
  nlohmann::json report = nlohmann::json::parse(out_.str());
  EXPECT_EQ(report["files"][0]["attempts"], 2);
  EXPECT_EQ(report["files"][0]["http_status"], 200);
  EXPECT_EQ(ReadAll(dir_ / "out" / "a.png"), "png bytes");
}

TEST_F(BatchTest, ABadRequestIsNotRetriedAndMakesExitTwo) {
  TestingHttpServer server([](const RecordedRequest& request) {
    return UploadedName(request) == "b.PNG" ? JsonError(400, "Bad Request", "image is truncated")
                                            : ImageAnswer("png bytes");
  });
  EXPECT_EQ(RunBatch(server, {}), kExitClientError);
  EXPECT_EQ(UploadedNames(server), (std::vector<std::string>{"a.png", "b.PNG", "c.jpg"})) << "one try each";
  EXPECT_TRUE(sleep_.delays().empty());
  std::string b = (dir_ / "in" / "b.PNG").string();
  EXPECT_NE(err_.str().find("[2/3] FAILED " + b + ": server answered 400: image is truncated\n"), std::string::npos)
      << err_.str();
  EXPECT_EQ(out_.str().rfind("2 ok, 0 skipped, 1 failed in ", 0), 0u) << out_.str();
  EXPECT_NE(out_.str().find("\nFAILED " + b + ": server answered 400: image is truncated\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "b.png"));
}

TEST_F(BatchTest, LostConnectionsAreRetriedWithBackoffThenReported) {
  std::atomic<int> b_calls{0};
  TestingHttpServer server([&](const RecordedRequest& request) {
    CannedResponse response = ImageAnswer("png bytes");
    if (UploadedName(request) == "a.png") response.close_without_reply = true;  // never answered
    if (UploadedName(request) == "b.PNG" && b_calls++ < 2) {
      response = JsonError(502, "Bad Gateway", "job lost with its worker");
    }
    return response;
  });
  fs::remove(dir_ / "in" / "c.jpg");
  ASSERT_EQ(RunBatch(server, {"--retries", "2", "--json"}), kExitServerError) << err_.str();
  nlohmann::json report = nlohmann::json::parse(out_.str());
  EXPECT_EQ(report["files"][0]["status"], "failed");
  EXPECT_EQ(report["files"][0]["attempts"], 3);
  EXPECT_TRUE(report["files"][0]["http_status"].is_null());
  EXPECT_NE(report["files"][0]["error"].get<std::string>().find("(after 3 attempts)"), std::string::npos);
  EXPECT_EQ(report["files"][1]["status"], "ok");
  EXPECT_EQ(report["files"][1]["attempts"], 3);
  std::vector<milliseconds> expected = {milliseconds(500), milliseconds(1000), milliseconds(500), milliseconds(1000)};
  EXPECT_EQ(sleep_.delays(), expected);
}

TEST_F(BatchTest, ExistingOutputsAreSkippedUnlessOverwrite) {
  WriteBytes(dir_ / "out" / "a.png", "from an earlier run");
  TestingHttpServer server([](const RecordedRequest&) { return ImageAnswer("new bytes"); });
  ASSERT_EQ(RunBatch(server, {}), kExitOk) << err_.str();
  EXPECT_EQ(UploadedNames(server), (std::vector<std::string>{"b.PNG", "c.jpg"}));
  EXPECT_EQ(ReadAll(dir_ / "out" / "a.png"), "from an earlier run");
  EXPECT_NE(err_.str().find("skipped " + (dir_ / "in" / "a.png").string()), std::string::npos) << err_.str();
  EXPECT_EQ(out_.str().rfind("2 ok, 1 skipped, 0 failed in ", 0), 0u) << out_.str();

  ASSERT_EQ(RunBatch(server, {"--overwrite"}), kExitOk) << err_.str();
  EXPECT_EQ(ReadAll(dir_ / "out" / "a.png"), "new bytes");
  EXPECT_EQ(out_.str().rfind("3 ok, 0 skipped, 0 failed in ", 0), 0u) << out_.str();
}

TEST_F(BatchTest, JsonReportDescribesEveryFile) {
  WriteBytes(dir_ / "in" / "d.png", "text, not an image");
  WriteBytes(dir_ / "out" / "c.png", "old");
  TestingHttpServer server([](const RecordedRequest&) { return ImageAnswer("png", "16x12"); });
  EXPECT_EQ(RunBatch(server, {"--json"}), kExitClientError) << "a local input error counts as a client error";
  nlohmann::json report = nlohmann::json::parse(out_.str());
  EXPECT_EQ(report["total"], 4);
  EXPECT_EQ(report["ok"], 2);
  EXPECT_EQ(report["skipped"], 1);
  EXPECT_EQ(report["failed"], 1);
  EXPECT_TRUE(report["seconds"].is_number());
  const nlohmann::json& a = report["files"][0];
  EXPECT_EQ(a["input"], (dir_ / "in" / "a.png").string());
  EXPECT_EQ(a["output"], (dir_ / "out" / "a.png").string());
  EXPECT_EQ(a["status"], "ok");
  EXPECT_TRUE(a["error"].is_null());
  EXPECT_EQ(a["http_status"], 200);
  EXPECT_EQ(a["output_size"], "16x12");
  EXPECT_EQ(a["attempts"], 1);
  EXPECT_EQ(report["files"][2]["status"], "skipped");
  EXPECT_EQ(report["files"][2]["attempts"], 0);
  const nlohmann::json& d = report["files"][3];
  EXPECT_EQ(d["status"], "failed");
  EXPECT_EQ(d["error"], "input file '" + (dir_ / "in" / "d.png").string() +
                            "' is not usable: not an image (unrecognised file signature)");
  EXPECT_EQ(d["attempts"], 0);
  EXPECT_EQ(server.requests().size(), 2u) << "the text file is refused locally";
}

TEST_F(BatchTest, ServerErrorsMakeExitThreeAndNoServerExitFour) {
  TestingHttpServer server([](const RecordedRequest&) { return JsonError(500, "Internal Server Error", "bug"); });
  EXPECT_EQ(RunBatch(server, {}), kExitServerError);
  EXPECT_EQ(server.requests().size(), 3u) << "500 is not retried";

  int port = testing::UnusedLocalPort();
  EXPECT_EQ(RunOnPort(port, {"--batch", in_, "--output", out_dir_, "--retries", "1"}), kExitUnreachable);
  EXPECT_NE(out_.str().find("cannot connect to 127.0.0.1:" + std::to_string(port)), std::string::npos) << out_.str();
}

TEST_F(BatchTest, FolderProblemsAreUsageErrors) {
  TestingHttpServer server([](const RecordedRequest&) { return ImageAnswer("png"); });
  EXPECT_EQ(Run(server, {"--batch", (dir_ / "missing").string(), "--output", out_dir_}), kExitUsage);
  EXPECT_EQ(err_.str(), "error: input folder '" + (dir_ / "missing").string() + "' not found\n");
  EXPECT_EQ(Run(server, {"--batch", in_, "--output", in_}), kExitUsage);
  EXPECT_EQ(err_.str(), "error: --output must be another folder than '" + in_ + "'\n");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(BatchTest, DefaultConcurrencyIsTheSlotsOfReadyWorkers) {
  const std::vector<std::string> infos = {R"({"workers": [{"id": "w0", "status": "ok", "slots": 2},
                                                         {"id": "w1", "status": "ok", "slots": 3},
                                                         {"id": "w2", "status": "error", "slots": 8}]})",
                                          R"({"workers": [{"id": "w2", "status": "error", "slots": 8}]})", "not json"};
  std::atomic<int> info_calls{0};
  TestingHttpServer server([&](const RecordedRequest& request) {
    if (request.target != "/info") return ImageAnswer("png");
    return JsonAnswer(200, infos[static_cast<std::size_t>(info_calls++) % infos.size()]);
  });
  auto http = HttpClient::Create(server.base_url(), milliseconds(2000));
  ASSERT_TRUE(http.ok());
  bool answered = false;
  EXPECT_EQ(DefaultConcurrency(**http, &answered), 5);
  EXPECT_TRUE(answered);
  EXPECT_EQ(DefaultConcurrency(**http, &answered), 1);
  EXPECT_EQ(DefaultConcurrency(**http, &answered), kFallbackConcurrency);

  auto nowhere =
      HttpClient::Create("http://127.0.0.1:" + std::to_string(testing::UnusedLocalPort()), milliseconds(500));
  answered = false;
  EXPECT_EQ(DefaultConcurrency(**nowhere, &answered), kFallbackConcurrency);
  EXPECT_FALSE(answered);

  ASSERT_EQ(Run(server, {"--batch", in_, "--output", out_dir_}), kExitOk) << err_.str();
  EXPECT_EQ(server.requests().at(3).target, "/info") << "without -j the batch asks /info first";
}

}  // namespace
}  // namespace tsdsr::client

#include "client/client_app.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/testing_client_fixture.h"
#include "client/testing_http_server.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;
using testing::CannedResponse;
using testing::ImageAnswer;
using testing::JsonError;
using testing::PngBytes;
using testing::ReadAll;
using testing::RecordedRequest;
using testing::TestingHttpServer;

// Single-image tests: a scratch folder with photo.png.
class ClientAppTest : public testing::ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    input_ = (dir_ / "photo.png").string();
    std::ofstream(input_, std::ios::binary) << PngBytes(4, 3);
  }

  std::string input_;
};

TEST_F(ClientAppTest, UpscaleWritesTheResultNextToTheInput) {
  const std::string result = PngBytes(8, 6);
  TestingHttpServer server([&](const RecordedRequest&) { return ImageAnswer(result); });
  ASSERT_EQ(Run(server, {"-i", input_, "-u", "4", "-ps", "64"}), kExitOk) << err_.str();
  std::string output = (dir_ / "photo_x4.png").string();
  EXPECT_EQ(out_.str(), "wrote " + output + " (8x6)\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(ReadAll(output), result);

  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/upscale?upscale=4&process_size=64");
  EXPECT_NE(requests[0].body.find("name=\"file\"; filename=\"photo.png\""), std::string::npos);
  EXPECT_NE(requests[0].body.find("Content-Type: image/png"), std::string::npos);
  EXPECT_NE(requests[0].body.find(ReadAll(input_)), std::string::npos);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 2) << "no temporary file may be left behind";
}

TEST_F(ClientAppTest, FormatOutputPathAndVerboseLine) {
  TestingHttpServer server([&](const RecordedRequest&) { return ImageAnswer("jpeg bytes"); });
  std::string output = (dir_ / "custom.jpg").string();
  ASSERT_EQ(Run(server, {"-i", input_, "-o", output, "--format", "JPG", "--verbose"}), kExitOk) << err_.str();
  EXPECT_EQ(server.requests().at(0).target, "/upscale?upscale=2&process_size=128&format=jpeg");
  EXPECT_EQ(ReadAll(output), "jpeg bytes");
  EXPECT_EQ(out_.str().rfind("wrote " + output + " (8x6) worker=worker-0 queue=3 ms compute=41 ms total=", 0), 0u)
      << out_.str();
}

TEST_F(ClientAppTest, DefaultOutputFollowsTheFormat) {
  TestingHttpServer server([&](const RecordedRequest&) { return ImageAnswer("webp bytes"); });
  ASSERT_EQ(Run(server, {"-i", input_, "--format", "webp"}), kExitOk) << err_.str();
  EXPECT_EQ(ReadAll(dir_ / "photo_x2.webp"), "webp bytes");
}

TEST_F(ClientAppTest, ServerRefusalIsExitTwoWithItsMessage) {
  TestingHttpServer server([](const RecordedRequest&) {
    return JsonError(400, "Bad Request", "upscale must be one of 2, 4");
  });
  EXPECT_EQ(Run(server, {"-i", input_, "-u", "3"}), kExitClientError);
  EXPECT_EQ(err_.str(), "error: server answered 400: upscale must be one of 2, 4\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_FALSE(fs::exists(dir_ / "photo_x3.png"));
}

TEST_F(ClientAppTest, ServerFailureIsExitThree) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response = JsonError(503, "Service Unavailable", "queue is full");
    response.headers.emplace_back("Retry-After", "2");
    return response;
  });
  EXPECT_EQ(Run(server, {"-i", input_}), kExitServerError);
  EXPECT_EQ(err_.str(), "error: server answered 503: queue is full (retry after 2 s)\n");
}

TEST_F(ClientAppTest, NoServerIsExitFourWithAHint) {
  int port = testing::UnusedLocalPort();
  EXPECT_EQ(RunOnPort(port, {"-i", input_}), kExitUnreachable);
  EXPECT_EQ(err_.str(), "error: cannot connect to 127.0.0.1:" + std::to_string(port) +
                            " (connection refused) \u2014 is tsdsr-dispatcher running?\n");
}

TEST_F(ClientAppTest, TimeoutIsExitFour) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response;
    response.delay = std::chrono::milliseconds(600);
    return response;
  });
  EXPECT_EQ(Run(server, {"-i", input_, "--timeout", "0.2"}), kExitUnreachable);
  EXPECT_EQ(err_.str(), "error: no answer from 127.0.0.1:" + std::to_string(server.port()) +
                            " within 0.2 s (use --timeout to wait longer)\n");
}

TEST_F(ClientAppTest, InputProblemsAreExitOneWithoutARequest) {
  TestingHttpServer server([](const RecordedRequest&) { return CannedResponse(); });
  EXPECT_EQ(Run(server, {"-i", "x.png"}), kExitUsage);
  EXPECT_EQ(err_.str(), "error: input file 'x.png' not found\n");
  std::string text = (dir_ / "notes.png").string();
  std::ofstream(text) << "just text";
  EXPECT_EQ(Run(server, {"-i", text}), kExitUsage);
  EXPECT_EQ(err_.str(), "error: input file '" + text + "' is not usable: not an image (unrecognised file signature)\n");
  EXPECT_EQ(Run(server, {"-i", dir_.string()}), kExitUsage);
  EXPECT_EQ(Run(server, {}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "error: nothing to do: give --input FILE, --batch DIR, --watch DIR, --health, --info or --stats "
            "(see --help)\n");
  EXPECT_EQ(Run(server, {"--bogus"}), kExitUsage);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(ClientAppTest, UnwritableOutputIsExitOne) {
  TestingHttpServer server([&](const RecordedRequest&) { return ImageAnswer("bytes"); });
  std::string output = (dir_ / "missing-dir" / "out.png").string();
  EXPECT_EQ(Run(server, {"-i", input_, "-o", output}), kExitUsage);
  EXPECT_EQ(err_.str(), "error: cannot write '" + output + "': No such file or directory\n");
}

TEST_F(ClientAppTest, StatsArePrintedAsIndentedJson) {
  TestingHttpServer server([](const RecordedRequest& request) {
    CannedResponse response;
    response.body = request.target == "/stats" ? R"({"queue_depth":0,"workers":[{"id":"w0"}]})" : "{}";
    return response;
  });
  ASSERT_EQ(Run(server, {"--stats"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "{\n  \"queue_depth\": 0,\n  \"workers\": [\n    {\n      \"id\": \"w0\"\n    }\n  ]\n}\n");
  ASSERT_EQ(Run(server, {"--info"}), kExitOk);
  EXPECT_EQ(server.requests().back().target, "/info");
}

TEST_F(ClientAppTest, UnhealthyServerPrintsTheReportAndExitsThree) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response;
    response.status = 503;
    response.reason = "Service Unavailable";
    response.body = R"({"status":"unavailable","workers":{"ready":0}})";
    return response;
  });
  EXPECT_EQ(Run(server, {"--health"}), kExitServerError);
  EXPECT_NE(out_.str().find("\"status\": \"unavailable\""), std::string::npos);
  EXPECT_EQ(err_.str(), "error: server answered 503: Service Unavailable\n");
}

TEST_F(ClientAppTest, HelpGoesToStdoutWithExitZero) {
  EXPECT_EQ(RunOnPort(8090, {"--help"}), kExitOk);
  EXPECT_NE(out_.str().find("Exit codes"), std::string::npos);
  EXPECT_EQ(err_.str(), "");
}

TEST(WriteFileAtomicallyTest, ReplacesExistingFiles) {
  fs::path path = fs::temp_directory_path() / ("tsdsr_atomic_" + std::to_string(getpid()) + ".bin");
  ASSERT_TRUE(WriteFileAtomically(path.string(), "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path.string(), std::string("sec\0nd", 6)).ok());
  EXPECT_EQ(ReadAll(path), std::string("sec\0nd", 6));
  fs::remove(path);
}

}  // namespace
}  // namespace tsdsr::client

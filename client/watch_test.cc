#include "client/watch.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/testing_client_fixture.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::CannedResponse;
using testing::ImageAnswer;
using testing::JsonError;
using testing::PngBytes;
using testing::ReadAll;
using testing::RecordedRequest;
using testing::TestingHttpServer;
using testing::UploadedName;
using testing::WaitFor;
using testing::WriteBytes;

// A watched folder `inbox/` with results in `out/`, against a server that refuses files named bad*.
class WatchTest : public testing::ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    inbox_ = dir_ / "inbox";
    fs::create_directories(inbox_);
    server_ = std::make_unique<TestingHttpServer>([](const RecordedRequest& request) {
      if (UploadedName(request).rfind("bad", 0) == 0) return JsonError(400, "Bad Request", "image is truncated");
      return ImageAnswer("png bytes");
    });
  }
  void TearDown() override {
    StopWatching();
    server_.reset();
    ClientTest::TearDown();
  }

  // Starts the watch on its own thread.
  void StartWatching(bool read_signals = false) {
    ClientOptions options;
    options.watch = inbox_.string();
    options.output = (dir_ / "out").string();
    options.port = server_->port();
    options.jobs = 2;
    options.retries = 0;
    auto http = HttpClient::Create(BaseUrlOf(options), milliseconds(2000));
    ASSERT_TRUE(http.ok());
    http_ = std::move(*http);
    auto runner = WatchRunner::Create(options, *http_, tuning_, read_signals, out_, err_);
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    runner_ = std::move(*runner);
    thread_ = std::thread([this] { exit_code_ = runner_->Run(); });
  }
  void StopWatching() {
    if (!thread_.joinable()) return;
    runner_->Stop();
    thread_.join();
  }
  bool Exists(const fs::path& path) {
    return WaitFor([&] { return fs::exists(path); });
  }
  int UploadsOf(const std::string& name) {
    int count = 0;
    for (const RecordedRequest& request : server_->requests()) count += UploadedName(request) == name;
    return count;
  }

  fs::path inbox_;
  std::unique_ptr<TestingHttpServer> server_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<WatchRunner> runner_;
  std::thread thread_;
  int exit_code_ = -1;
};

TEST_F(WatchTest, FilesPresentAtStartAreProcessedAndMovedToDone) {
  WriteBytes(inbox_ / "a.png", PngBytes(4, 3));
  WriteBytes(inbox_ / "b.jpg", PngBytes(4, 3));
  WriteBytes(inbox_ / ".partial.png", PngBytes(4, 3));
  WriteBytes(inbox_ / "notes.txt", "ignored");
  StartWatching();
  ASSERT_TRUE(Exists(inbox_ / "done" / "a.png"));
  ASSERT_TRUE(Exists(inbox_ / "done" / "b.jpg"));
  EXPECT_EQ(ReadAll(dir_ / "out" / "a.png"), "png bytes");
  EXPECT_EQ(ReadAll(dir_ / "out" / "b.png"), "png bytes");
  EXPECT_FALSE(fs::exists(inbox_ / "a.png"));
  StopWatching();
  EXPECT_EQ(exit_code_, kExitOk);
  EXPECT_TRUE(fs::exists(inbox_ / ".partial.png"));
  EXPECT_TRUE(fs::exists(inbox_ / "notes.txt"));
  EXPECT_EQ(server_->requests().size(), 2u);
  EXPECT_NE(err_.str().find("] ok " + (inbox_ / "a.png").string() + " -> " + (dir_ / "out" / "a.png").string()),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(out_.str().rfind("2 ok, 0 skipped, 0 failed in ", 0), 0u) << out_.str();
}

TEST_F(WatchTest, AFileWrittenAfterStartIsProcessed) {
  StartWatching();
  WriteBytes(inbox_ / "new.webp", PngBytes(4, 3));
  ASSERT_TRUE(Exists(inbox_ / "done" / "new.webp"));
  EXPECT_EQ(ReadAll(dir_ / "out" / "new.png"), "png bytes");
  // Moved in (rename) counts too; a second file with the same stem keeps its extension in the output name.
  WriteBytes(dir_ / "elsewhere" / "new.png", PngBytes(4, 3));
  fs::rename(dir_ / "elsewhere" / "new.png", inbox_ / "new.png");
  ASSERT_TRUE(Exists(inbox_ / "done" / "new.png"));
  EXPECT_EQ(ReadAll(dir_ / "out" / "new.png.png"), "png bytes");
}

TEST_F(WatchTest, AFileHeldOpenForWritingWaitsUntilItIsClosed) {
  std::string png = PngBytes(4, 3);
  std::string path = (inbox_ / "slow.png").string();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, png.data(), 10), 10);
  WriteBytes(inbox_ / "ready.png", png);
  StartWatching();
  ASSERT_TRUE(Exists(inbox_ / "done" / "ready.png"));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(UploadsOf("slow.png"), 0) << "still open for writing";
  EXPECT_TRUE(fs::exists(path));
  ASSERT_EQ(write(fd, png.data() + 10, png.size() - 10), static_cast<ssize_t>(png.size() - 10));
  close(fd);
  ASSERT_TRUE(Exists(inbox_ / "done" / "slow.png"));
  EXPECT_EQ(UploadsOf("slow.png"), 1);
  EXPECT_EQ(ReadAll(dir_ / "out" / "slow.png"), "png bytes");
}

TEST_F(WatchTest, AFailingFileGoesToFailedWithItsError) {
  StartWatching();
  WriteBytes(inbox_ / "bad.png", PngBytes(4, 3));
  WriteBytes(inbox_ / "text.png", "not an image");
  ASSERT_TRUE(Exists(inbox_ / "failed" / "bad.png"));
  ASSERT_TRUE(Exists(inbox_ / "failed" / "text.png"));
  EXPECT_EQ(ReadAll(inbox_ / "failed" / "bad.png.error.txt"), "server answered 400: image is truncated\n");
  EXPECT_EQ(ReadAll(inbox_ / "failed" / "text.png.error.txt"),
            "input file '" + (inbox_ / "text.png").string() +
                "' is not usable: not an image (unrecognised file signature)\n");
  EXPECT_FALSE(fs::exists(dir_ / "out" / "bad.png"));
  EXPECT_EQ(UploadsOf("text.png"), 0);
  StopWatching();
  EXPECT_EQ(exit_code_, kExitOk);
  EXPECT_NE(err_.str().find("FAILED " + (inbox_ / "bad.png").string() + ": server answered 400"), std::string::npos);
}

TEST_F(WatchTest, AnExistingOutputIsSkippedAndTheSourceStillMovedToDone) {
  WriteBytes(dir_ / "out" / "a.png", "from before a restart");
  WriteBytes(inbox_ / "a.png", PngBytes(4, 3));
  StartWatching();
  ASSERT_TRUE(Exists(inbox_ / "done" / "a.png"));
  EXPECT_EQ(ReadAll(dir_ / "out" / "a.png"), "from before a restart");
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(WatchTest, SigtermStopsTheWatchWithExitZero) {
  WriteBytes(inbox_ / "a.png", PngBytes(4, 3));
  StartWatching(/*read_signals=*/true);
  ASSERT_TRUE(Exists(inbox_ / "done" / "a.png"));  // Run() has blocked the signals by now
  ASSERT_EQ(pthread_kill(thread_.native_handle(), SIGTERM), 0);
  thread_.join();
  EXPECT_EQ(exit_code_, kExitOk);
  EXPECT_EQ(out_.str().rfind("1 ok, 0 skipped, 0 failed in ", 0), 0u) << out_.str();
}

TEST_F(WatchTest, AMissingFolderIsRefused) {
  ClientOptions options;
  options.watch = (dir_ / "nope").string();
  options.output = (dir_ / "out").string();
  auto http = HttpClient::Create(server_->base_url(), milliseconds(2000));
  auto runner = WatchRunner::Create(options, **http, tuning_, false, out_, err_);
  ASSERT_FALSE(runner.ok());
  EXPECT_EQ(runner.status().message(), "watched folder '" + options.watch + "' not found");
  options.watch = inbox_.string();
  options.output = inbox_.string();
  EXPECT_FALSE(WatchRunner::Create(options, **http, tuning_, false, out_, err_).ok());
}

}  // namespace
}  // namespace tsdsr::client

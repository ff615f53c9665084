// TEST ONLY (header-only, never part of a library): what the client's tests share: a scratch folder per
// test, image and file helpers, canned server answers, a sleep that records instead of waiting, and
// running the whole program against a TestingHttpServer.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "client/client_app.h"
#include "client/job_settings.h"
#include "client/testing_http_server.h"

namespace tsdsr::client::testing {

namespace fs = std::filesystem;

inline std::string PngBytes(int width, int height) {
  std::vector<uchar> buffer;
  cv::imencode(".png", cv::Mat(height, width, CV_8UC3, cv::Scalar(1, 2, 3)), buffer);
  return std::string(buffer.begin(), buffer.end());
}

inline std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Writes `bytes` to `path`, creating its folder.
inline void WriteBytes(const fs::path& path, const std::string& bytes) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

inline CannedResponse ImageAnswer(const std::string& body, const std::string& size = "8x6") {
  CannedResponse response;
  response.headers = {{"Content-Type", "image/png"},
                      {"X-Output-Size", size},
                      {"X-Worker", "worker-0"},
                      {"X-Queue-Ms", "3"},
                      {"X-Compute-Ms", "41"}};
  response.body = body;
  return response;
}

inline CannedResponse JsonError(int status, const std::string& reason, const std::string& message) {
  CannedResponse response;
  response.status = status;
  response.reason = reason;
  response.headers = {{"Content-Type", "application/json"}};
  response.body = R"({"error": ")" + message + R"(", "code": "x"})";
  return response;
}

inline CannedResponse JsonAnswer(int status, const std::string& body) {
  CannedResponse response;
  response.status = status;
  response.reason = status == 202 ? "Accepted" : status == 404 ? "Not Found" : "OK";
  response.headers = {{"Content-Type", "application/json"}};
  response.body = body;
  return response;
}

// The filename="..." of a multipart upload, or "".
inline std::string UploadedName(const RecordedRequest& request) {
  std::size_t start = request.body.find("filename=\"");
  if (start == std::string::npos) return "";
  start += 10;
  return request.body.substr(start, request.body.find('"', start) - start);
}

// True once `condition` holds, polling every 10 ms for at most `limit`.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A sleep that only records what it was asked to wait. Thread-safe.
class RecordingSleep {
 public:
  void operator()(std::chrono::milliseconds delay) {
    std::lock_guard<std::mutex> lock(mu_);
    delays_.push_back(delay);
  }
  std::vector<std::chrono::milliseconds> delays() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delays_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::chrono::milliseconds> delays_;  // guarded by mu_
};

// A scratch folder per test (removed afterwards) and the whole program run against a server, with
// retries and polls that record their waits instead of sleeping.
class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tsdsr_client_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    tuning_.sleep = [this](std::chrono::milliseconds delay) { sleep_(delay); };
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the whole program with `args` against `server` (its port is added).
  int Run(const TestingHttpServer& server, std::vector<std::string> args) {
    return RunOnPort(server.port(), std::move(args));
  }
  int RunOnPort(int port, std::vector<std::string> args) {
    args.insert(args.begin(), {"tsdsr-client", "--port", std::to_string(port)});
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    out_.str("");
    err_.str("");
    return ClientMain(static_cast<int>(argv.size()), argv.data(), out_, err_, tuning_);
  }

  fs::path dir_;
  ClientTuning tuning_;
  RecordingSleep sleep_;
  std::ostringstream out_, err_;
};

}  // namespace tsdsr::client::testing

// Test harness for end-to-end tests: starts a real tsdsr-dispatcher (with its real local workers) on free
// ports, talks HTTP to it, and stops it. Used only by tests.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "client/http_client.h"
#include "dispatcher/supervisor.h"

namespace tsdsr::testing {

// Path of one of the built programs, e.g. Program("tsdsr-client").
std::string Program(const std::string& name);

// A scratch directory for one test, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A dispatcher process with `workers` local workers, on a port it picked itself.
class Cluster {
 public:
  // Starts tsdsr-dispatcher with the given extra flags and waits until /health reports `workers` ready
  // workers (fails the test after `timeout`).
  static std::unique_ptr<Cluster> Start(int workers, const std::vector<std::string>& extra_flags = {},
                                        std::chrono::seconds timeout = std::chrono::seconds(60));
  ~Cluster();  // SIGTERM, then SIGKILL if it does not exit

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int pid() const { return pid_; }
  client::HttpClient& http() { return *http_; }

  // GET path and parse the JSON body; fails the test when the body is not JSON.
  nlohmann::json GetJson(const std::string& path, long* status = nullptr);
  // Sends SIGTERM and waits for the exit; returns the launcher's description, e.g. "exit code 0".
  std::string Terminate(std::chrono::seconds timeout = std::chrono::seconds(30));

 private:
  Cluster() = default;
  // Reads the port the dispatcher wrote and opens a client to it; false until the file is there.
  bool Connect(const std::string& port_file);

  TempDir dir_;
  std::unique_ptr<dispatcher::ProcessLauncher> launcher_;
  std::unique_ptr<client::HttpClient> http_;
  int port_ = 0;
  int pid_ = 0;
  bool ended_ = false;
};

// Runs a shell command; returns its exit status and fills `output` with stdout.
int RunCommand(const std::string& command, std::string* output = nullptr);

// A deterministic test picture with edges, gradients and noise, so resize differences show.
cv::Mat TestImage(int width, int height, unsigned seed = 1);
// Writes `image` as PNG bytes.
std::string EncodePng(const cv::Mat& image);
// Decodes image bytes (fails the test on garbage).
cv::Mat DecodeBytes(const std::string& bytes);
// Largest per-channel absolute difference of two same-size 8-bit images (INT_MAX when sizes differ).
int MaxAbsDiff(const cv::Mat& a, const cv::Mat& b);

}  // namespace tsdsr::testing

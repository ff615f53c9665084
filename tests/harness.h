// Test harness for end-to-end tests: starts a real tsdsr-dispatcher (with its real local workers) on free
// ports, talks HTTP to it, and stops it. Used only by tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "client/http_client.h"
#include "tests/dispatcher_process.h"

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

struct ClusterOptions {
  int workers = 2;                     // local workers the dispatcher starts
  std::vector<std::string> flags;      // more dispatcher flags
  std::string worker_endpoint = "tcp://127.0.0.1:*";
  int wait_for_ready = -1;             // ready workers to wait for; -1 = `workers`
  std::chrono::seconds timeout{60};
};

// A dispatcher process with local workers, on an HTTP port it picked itself.
class Cluster {
 public:
  // Starts tsdsr-dispatcher and waits until /health reports the ready workers asked for (fails the test
  // after `timeout`).
  static std::unique_ptr<Cluster> Start(const ClusterOptions& options);
  static std::unique_ptr<Cluster> Start(int workers, const std::vector<std::string>& extra_flags = {}) {
    ClusterOptions options;
    options.workers = workers;
    options.flags = extra_flags;
    return Start(options);
  }
  // The destructor sends SIGTERM, then SIGKILL if the dispatcher does not exit (DispatcherProcess).

  int port() const { return process_->port(); }
  std::string base_url() const { return process_->base_url(); }
  int pid() const { return process_->pid(); }
  client::HttpClient& http() { return process_->http(); }

  // Waits until /health reports at least `ready` ready-or-busy workers; false after `timeout`.
  bool WaitForWorkers(int ready, std::chrono::seconds timeout);
  // Starts a dispatcher with one local worker whose model cannot load (`flags` pick it) and checks what such a
  // worker must show once it registers: /health 503 "unavailable", /info status "error". Returns the cluster
  // (null when it did not start) and the worker's error text in `*error` (empty when /info shows none).
  static std::unique_ptr<Cluster> StartWithFailedModel(const std::vector<std::string>& flags, std::string* error);
  // Waits until /health counts `total` workers in any state (those whose model failed to load included), at
  // most 20 s; returns the last /health body and stores its HTTP status in `*status`.
  nlohmann::json WaitForWorkerCount(int total, long* status);
  // Pids of the workers /info lists, in its order.
  std::vector<int> WorkerPids();

  // GET path and parse the JSON body; fails the test when the body is not JSON.
  nlohmann::json GetJson(const std::string& path, long* status = nullptr);
  // GET path every 20 ms until `until` holds for its JSON (e.g. /stats, which lags changes by up to 100 ms); the
  // last JSON. Fails the test after `timeout`.
  nlohmann::json WaitForJson(const std::string& path, const std::function<bool(const nlohmann::json&)>& until,
                             std::chrono::seconds timeout = std::chrono::seconds(10));
  // Sends SIGTERM and waits for the exit; returns the launcher's description, e.g. "exit code 0".
  std::string Terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Waits for the dispatcher to exit by itself (e.g. after a signal the test sent).
  std::string WaitForExit(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    return process_->WaitForExit(timeout);
  }

 private:
  Cluster() = default;

  TempDir dir_;  // holds the port file, so it outlives process_
  std::unique_ptr<DispatcherProcess> process_;
};

// A process started for a test (e.g. a remote worker), SIGKILLed by the destructor if still running.
class TestProcess {
 public:
  explicit TestProcess(const std::vector<std::string>& argv);
  ~TestProcess();
  int pid() const { return pid_; }
  void Signal(int signal);
  // Waits for the process to end; its launcher description ("exit code 0"), or "" after `timeout`.
  std::string Wait(std::chrono::seconds timeout);

 private:
  std::unique_ptr<dispatcher::ProcessLauncher> launcher_;
  int pid_ = 0;
  bool ended_ = false;
};

// An encoded test image as a client would upload it.
struct ImageFile {
  std::string name;  // e.g. "frame_3.webp"
  std::string type;  // e.g. "image/webp"
  std::string bytes;
};

// The JSON body of `response`; fails the test (and returns null) when it is not JSON.
nlohmann::json JsonOf(const client::HttpResponse& response);

// POST /jobs?`query` with `image` as multipart field `file` (named `filename`), and `key` as Idempotency-Key
// when it is not empty. Fails the test when no answer came.
client::HttpResponse PostJob(client::HttpClient& http, const std::string& image, const std::string& query = "",
                             const std::string& key = "", const std::string& filename = "in.png");

// The id in a 202 answer of POST /jobs; fails the test (and returns "") for any other answer.
std::string JobIdOf(const client::HttpResponse& response);

// POST /upscale?`query` with `file` as multipart field `file`: the reference a stored output must equal.
client::HttpResponse UpscaleDirect(client::HttpClient& http, const ImageFile& file, const std::string& query);

// Polls GET /jobs/{id} until `until` says so (default: the job finished: succeeded, failed or cancelled); the
// last JSON. Fails the test after `timeout`.
nlohmann::json WaitForJob(client::HttpClient& http, const std::string& id,
                          const std::function<bool(const nlohmann::json&)>& until = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// A TCP port free right now on every interface (for a program that must be told its port).
int FreePort();

// Runs a shell command; returns its exit status and fills `output` with stdout.
int RunCommand(const std::string& command, std::string* output = nullptr);

// A program started through the shell so that its log (stderr) lands in the file `log`.
std::unique_ptr<TestProcess> StartLogged(const std::vector<std::string>& argv, const std::string& log);

// The whole file at `path` ("" when it cannot be read).
std::string ReadFile(const std::string& path);
// Waits until the file at `path` contains `needle`; false after `timeout`.
bool WaitForText(const std::string& path, const std::string& needle, std::chrono::seconds timeout);

// Twenty files: PNG, JPEG and WebP of odd sizes (1×1 to 100×61), the eighth ("broken.png") a PNG cut short.
std::vector<ImageFile> MixedImages();
inline constexpr size_t kBrokenImage = 7;  // the index of broken.png in MixedImages()

// What the simulated model returns: a nearest-neighbour ×2.
cv::Mat Nearest2x(const cv::Mat& input);

// A deterministic test picture with edges, gradients and noise, so resize differences show.
cv::Mat TestImage(int width, int height, unsigned seed = 1);
// Writes `image` as PNG bytes.
std::string EncodePng(const cv::Mat& image);
// Decodes image bytes (fails the test on garbage).
cv::Mat DecodeBytes(const std::string& bytes);
// Largest per-channel absolute difference of two same-size 8-bit images (INT_MAX when sizes differ).
int MaxAbsDiff(const cv::Mat& a, const cv::Mat& b);

}  // namespace tsdsr::testing

// Closed-loop HTTP load for the pool benchmark: a fixed number of client threads, each with its own libcurl
// HttpClient and one request outstanding at a time, post the same image to /upscale until stopped, and
// record when each answer came, how long it took and what the worker said it spent.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/http_client.h"
#include "common/status.h"

namespace tsdsr::bench {

using Clock = std::chrono::steady_clock;

// One answered request.
struct Sample {
  Clock::time_point end{};  // when the whole response had been read
  double latency_ms = 0;    // client-observed: request started to response read
  double compute_ms = 0;    // X-Compute-Ms: the worker's decode + model + encode time
  double queue_ms = 0;      // X-Queue-Ms: waiting in the dispatcher's queue
  bool ok = false;          // HTTP 200 with the headers above
};

struct LoadOptions {
  std::string base_url;  // "http://127.0.0.1:PORT"
  std::string path;      // path and query, e.g. "/upscale?upscale=2&process_size=64"
  std::string image;     // encoded image sent as the multipart field "file"
  int concurrency = 1;   // client threads = most requests outstanding
  // Each thread pauses a random time in [0, think_max) before each request, so that requests arrive at
  // independent times instead of in lockstep (a closed loop over equal job times keeps them in step).
  std::chrono::milliseconds think_max{0};
  std::chrono::milliseconds timeout{60000};  // per request
};

class LoadDriver {
 public:
  // Starts `options.concurrency` client threads. InvalidArgument for a concurrency below 1 or a bad URL.
  // The threads run until Stop() or the destructor.
  static Result<std::unique_ptr<LoadDriver>> Start(const LoadOptions& options);
  ~LoadDriver();  // Stop()
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  // Asks the threads to stop after their current request, joins them and returns every sample so far
  // (later calls return nothing new). Not thread-safe: call from the thread that started the driver.
  std::vector<Sample> Stop();

  // The first transport or HTTP error seen ("" when none), for the report. Thread-safe.
  std::string first_error() const;

 private:
  explicit LoadDriver(LoadOptions options) : options_(std::move(options)) {}
  // One client thread's loop; its HttpClient is its own, `seed` seeds its think times.
  void Drive(std::unique_ptr<client::HttpClient> http, unsigned seed);
  void RecordError(const std::string& error);

  const LoadOptions options_;  // read by every thread, written by none
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<Sample> samples_;  // guarded by mu_
  std::string first_error_;      // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace tsdsr::bench

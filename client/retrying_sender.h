// Sends a request again and again as RetryPolicy says, sleeping in between (the sleep is a seam for tests).
#pragma once

#include <chrono>
#include <functional>
#include <random>

#include "client/http_client.h"
#include "client/retry_policy.h"

namespace tsdsr::client {

// Waits `delay`; tests pass one that records or shortens the wait.
using SleepFunction = std::function<void(std::chrono::milliseconds delay)>;

// Sends requests for one file through `http` (borrowed, must outlive this), sharing one RetryPolicy
// across them, so the budgets are per file. Not thread-safe: one per file and thread.
class RetryingSender {
 public:
  // An empty `sleep` means std::this_thread::sleep_for.
  RetryingSender(HttpClient& http, const RetrySettings& settings, SleepFunction sleep);

  // Sends `request` until an answer that is not retried or a budget is used up. Returns the last answer
  // (any HTTP status; the caller decides what is an error) or the last transport error.
  Result<HttpResponse> Send(const HttpRequest& request);

  // Waits `delay` with the configured sleep (for callers that poll).
  void Sleep(std::chrono::milliseconds delay);

  int attempts() const { return attempts_; }         // requests sent so far
  bool answered() const { return answered_; }        // whether any HTTP answer came back
  long last_status() const { return last_status_; }  // status of the last answer; 0 when none yet
  // The tries of the last Send when it ended because retries or the busy budget ran out; 0 when its last
  // answer was final (success or an error that is not retried).
  int gave_up_after() const { return gave_up_after_; }

 private:
  HttpClient& http_;
  RetryPolicy policy_;
  SleepFunction sleep_;
  std::minstd_rand random_;
  int attempts_ = 0;
  bool answered_ = false;
  long last_status_ = 0;
  int gave_up_after_ = 0;
};

// "server answered 503: queue is full" for an error answer. Thread-safe.
std::string DescribeHttpError(const HttpResponse& response);

}  // namespace tsdsr::client

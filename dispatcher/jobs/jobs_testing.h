// TEST ONLY (header-only): outcomes for the jobs layer's tests to answer the RecordingSink's jobs with
// (dispatcher/pool/pool_testing.h), and a wait for conditions that another thread makes true.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dispatcher/pool/pool_testing.h"

namespace tsdsr::dispatcher::testing {

// An OK outcome carrying `image` as a PNG of `width`×`height`.
inline JobOutcome PngOutcome(std::string image, int width, int height, std::string worker = "worker-0") {
  JobOutcome outcome;
  outcome.image = std::move(image);
  outcome.result.output_width = width;
  outcome.result.output_height = height;
  outcome.result.content_type = "image/png";
  outcome.worker_id = std::move(worker);
  return outcome;
}

inline JobOutcome FailedOutcome(Status status) {
  JobOutcome outcome;
  outcome.status = std::move(status);
  return outcome;
}

// Polls `condition` every 5 ms for up to `timeout`; its last value.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace tsdsr::dispatcher::testing

// TEST ONLY (header-only): a pool that records what it is given, so the jobs layer's tests can start, advance and
// answer each job themselves, and a wait for conditions that another thread makes true.
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

#include "dispatcher/pool/job_sink.h"

namespace tsdsr::dispatcher::testing {

class RecordingSink final : public JobSink {
 public:
  std::uint64_t NewJobId() override {
    std::lock_guard<std::mutex> lock(mu_);
    return next_id_++;
  }
  void Submit(JobPtr job) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(std::move(job));
      ++submitted_;
    }
    cv_.notify_all();
  }
  void Cancel(std::uint64_t job_id, std::string reason) override {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.emplace_back(job_id, std::move(reason));
  }
  PoolSnapshot Snapshot() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshot_;
  }

  // `workers` usable workers of `slots` slots each (none: the manager holds its jobs back).
  void SetWorkers(int workers, int slots = 2) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_.workers.clear();
    for (int i = 0; i < workers; ++i) {
      WorkerView w;
      w.description.id = "worker-" + std::to_string(i);
      w.description.status = "ok";
      w.description.slots = slots;
      snapshot_.workers.push_back(w);
    }
  }
  // The oldest job held, waiting up to 5 s for one; null when none came.
  JobPtr Take() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [this] { return !held_.empty(); })) return nullptr;
    JobPtr job = std::move(held_.front());
    held_.pop_front();
    return job;
  }
  size_t held() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  size_t submitted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return submitted_;
  }
  std::vector<std::pair<std::uint64_t, std::string>> cancels() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t next_id_ = 1;
  std::deque<JobPtr> held_;
  size_t submitted_ = 0;
  std::vector<std::pair<std::uint64_t, std::string>> cancels_;
  PoolSnapshot snapshot_;
};

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

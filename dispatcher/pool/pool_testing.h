// TEST ONLY (header-only): a pool that records what it is given, so the tests of what sits in front of it (the jobs
// layer, the image splitter) can start, advance and answer each job themselves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dispatcher/pool/job_sink.h"

namespace tsdsr::dispatcher::testing {

class RecordingSink : public JobSink {
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

  void SetSnapshot(PoolSnapshot snapshot) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_ = std::move(snapshot);
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

}  // namespace tsdsr::dispatcher::testing

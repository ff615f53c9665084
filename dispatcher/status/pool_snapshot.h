// A consistent copy of the worker pool's state, published by the broker thread for the HTTP threads
// (health, info, stats, metrics), so reading it never waits on scheduling or inference.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/protocol.h"

namespace tsdsr::dispatcher {

// Departed workers a snapshot remembers.
inline constexpr std::size_t kMaxDeparted = 16;

// True when the worker computes on a CUDA device ("cuda", "cuda:1"): its memory is GPU memory.
inline bool OnGpu(const proto::WorkerDescription& worker) { return worker.device.rfind("cuda", 0) == 0; }

struct WorkerView {
  proto::WorkerDescription description;
  proto::WorkerLiveStats live;
  int in_flight = 0;
  std::int64_t jobs_done = 0;
  double last_seen_ms_ago = 0;
  double uptime_s = 0;
};

// A worker the broker dropped, kept for a while so that status pages can say it is gone, since when and why.
struct DepartedWorker {
  proto::WorkerDescription description;
  std::string reason;         // e.g. "no heartbeat for 3 intervals"
  std::int64_t gone_unix_ms = 0;
  std::int64_t jobs_done = 0;
};

struct PoolSnapshot {
  std::vector<WorkerView> workers;
  std::vector<DepartedWorker> departed;  // the last workers dropped, newest first (kMaxDeparted at most)
  std::set<int> scales;  // scales some usable worker accepts
  std::size_t queue_depth = 0;
  std::size_t in_flight = 0;
  std::int64_t jobs_ok = 0;
  std::int64_t jobs_failed = 0;
  std::int64_t workers_lost = 0;  // workers dropped as dead or silent since start
  double mean_job_ms = 0;         // moving average of a job's time on a worker, transfer included
  std::map<std::string, std::size_t> queued_by_client;  // the queue's jobs by client

  int usable_workers() const {
    int n = 0;
    for (const auto& w : workers) n += w.description.status == "ok" ? 1 : 0;
    return n;
  }
};

// Retry-After for work refused under load: the time the pool needs for `backlog` jobs over `slots` slots at
// `mean_job_ms` each, 1 to 120 s; 2 s when no worker (or no timing) is known (a restarting worker is back in about
// that).
inline int EstimateRetryAfterSeconds(std::size_t backlog, int slots, double mean_job_ms) {
  if (slots <= 0 || mean_job_ms <= 0) return 2;
  const double seconds = std::ceil(double(backlog) / slots * mean_job_ms / 1000);
  return static_cast<int>(std::clamp(seconds, 1.0, 120.0));
}

inline int EstimateRetryAfterSeconds(const PoolSnapshot& pool) {
  int slots = 0;
  for (const auto& w : pool.workers) slots += w.description.status == "ok" ? w.description.slots : 0;
  return EstimateRetryAfterSeconds(pool.queue_depth + pool.in_flight, slots, pool.mean_job_ms);
}

}  // namespace tsdsr::dispatcher

// A consistent copy of the worker pool's state, published by the broker thread for the HTTP threads
// (health, info, stats, metrics), so reading it never waits on scheduling or inference.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/protocol.h"

namespace tsdsr::dispatcher {

struct WorkerView {
  proto::WorkerDescription description;
  proto::WorkerLiveStats live;
  int in_flight = 0;
  std::int64_t jobs_done = 0;
  double last_seen_ms_ago = 0;
  double uptime_s = 0;
};

struct PoolSnapshot {
  std::vector<WorkerView> workers;
  std::set<int> scales;  // scales some usable worker accepts
  std::size_t queue_depth = 0;
  std::size_t in_flight = 0;
  std::int64_t jobs_ok = 0;
  std::int64_t jobs_failed = 0;
  std::int64_t workers_lost = 0;  // workers dropped as dead or silent since start
  double mean_job_ms = 0;         // moving average of a job's time on a worker, transfer included

  int usable_workers() const {
    int n = 0;
    for (const auto& w : workers) n += w.description.status == "ok" ? 1 : 0;
    return n;
  }
};

}  // namespace tsdsr::dispatcher

// What the dispatcher's front end needs of the pool: a place to hand jobs to, a way to take them back, and a
// view of the workers. The Broker is the one real implementation; the jobs layer is written (and unit-tested)
// against this seam.
#pragma once

#include <cstdint>
#include <string>

#include "dispatcher/pool/job.h"
#include "dispatcher/status/pool_snapshot.h"

namespace tsdsr::dispatcher {

class JobSink {
 public:
  virtual ~JobSink() = default;

  // A fresh job id, never returned before in this process. Thread-safe.
  virtual std::uint64_t NewJobId() = 0;

  // Hands `job` over: from here the sink owns it and runs job->done exactly once (with the result, or with
  // Unavailable when it cannot take the job now, DeadlineExceeded, Cancelled or the worker's error).
  // Thread-safe, never blocks on scheduling.
  virtual void Submit(JobPtr job) = 0;

  // Cancels a job that is queued or on a worker; its callback then runs with Cancelled(`reason`). Unknown or
  // finished ids are ignored. Thread-safe.
  virtual void Cancel(std::uint64_t job_id, std::string reason) = 0;

  // The pool as of a few milliseconds ago. Thread-safe.
  virtual PoolSnapshot Snapshot() const = 0;
};

}  // namespace tsdsr::dispatcher

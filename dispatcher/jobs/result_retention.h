// Keeps the result store within its bounds: outputs expire --result-ttl after their job finished, the outputs
// stay under --result-max-gb (the earliest finished go first), and records of finished jobs whose outputs are
// gone are deleted --job-history after they finished. A record keeps saying why its output went (expired or
// evicted), so a download answers 410 with the reason. Not thread-safe: the job manager's thread runs it.
#pragma once

#include <cstdint>

#include "dispatcher/jobs/data_dir.h"
#include "dispatcher/jobs/job_store.h"

namespace tsdsr::dispatcher {

struct RetentionOptions {
  std::int64_t result_ttl_ms = 24LL * 3600 * 1000;   // 0 = outputs never expire
  std::int64_t max_result_bytes = 10LL << 30;        // 0 = no size cap
  std::int64_t history_ms = 7LL * 24 * 3600 * 1000;  // records of finished jobs without an output
};

struct RetentionPass {
  int expired = 0;  // outputs removed for their age
  int evicted = 0;  // outputs removed for the size cap
  int purged = 0;   // records deleted
};

class ResultRetention {
 public:
  // `store` and `dir` must outlive this object.
  ResultRetention(RetentionOptions options, JobStore& store, DataDir& dir)
      : options_(options), store_(store), dir_(dir) {}

  // One pass at `now_ms`; a pass does a bounded amount of work (the next one goes on). Errors are logged and the
  // pass stops; nothing is half-removed (a file goes first, then its record says so).
  RetentionPass Run(std::int64_t now_ms);

  const RetentionOptions& options() const { return options_; }

 private:
  // Removes the stored files of `record` and marks its output `why`; false when the record cannot be written.
  bool Remove(JobRecord record, ResultState why);
  int Expire(std::int64_t now_ms);
  int Evict();

  RetentionOptions options_;
  JobStore& store_;
  DataDir& dir_;
};

}  // namespace tsdsr::dispatcher

// The job database behind a small interface: SQLite on the dispatcher's disk today (SqliteJobStore); a server
// database shared by several dispatchers could take its place. Implementations are thread-safe.
//
// Errors: Conflict when an insert clashes with a stored id or idempotency key, InsufficientStorage when the
// database cannot be written (disk full, read-only, I/O error) — nothing already stored is harmed then —,
// Internal for anything else.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dispatcher/jobs/job_record.h"

namespace tsdsr::dispatcher {

struct JobQuery {
  std::optional<JobState> state;  // only jobs in this state; all when empty
  int limit = 50;                 // at most this many
  std::string after;              // a job id: only jobs created before it (the next page); empty = from the newest
};

struct StoreTotals {
  std::map<JobState, std::int64_t> jobs;  // stored jobs by state (states without jobs are absent)
  std::int64_t stored_results = 0;        // jobs whose output is on disk
  std::int64_t result_bytes = 0;          // their outputs' size
  std::int64_t input_bytes = 0;           // inputs of jobs not finished yet
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Adds `record`, assigning record.seq. Conflict names the clashing id or key.
  virtual Status Insert(JobRecord& record) = 0;
  // Replaces the stored record with `record`'s id by `record` (seq is kept). NotFound when there is none.
  virtual Status Update(const JobRecord& record) = 0;
  // Removes a record; removing one that is not there is not an error.
  virtual Status Delete(std::string_view id) = 0;

  // The record with `id`, or nullopt.
  virtual Result<std::optional<JobRecord>> Get(std::string_view id) = 0;
  // The record submitted with idempotency key `key`, or nullopt.
  virtual Result<std::optional<JobRecord>> FindByIdempotencyKey(std::string_view key) = 0;
  // A page of records, newest first.
  virtual Result<std::vector<JobRecord>> List(const JobQuery& query) = 0;
  // Every queued or running record, oldest first (what a restarted dispatcher runs again).
  virtual Result<std::vector<JobRecord>> Unfinished() = 0;
  // Up to `limit` records whose output is stored, the earliest finished first; with `finished_before` > 0 only
  // those finished before it.
  virtual Result<std::vector<JobRecord>> OldestStoredResults(int limit, std::int64_t finished_before = 0) = 0;
  // Removes up to `limit` finished records that finished before `finished_before` and hold no stored output;
  // returns how many went.
  virtual Result<int> PurgeFinishedBefore(std::int64_t finished_before, int limit) = 0;
  virtual Result<StoreTotals> Totals() = 0;

  // The chunks of video job `job_id`: written once when it is planned, marked as their segments are stored,
  // read back after a restart (in index order), and deleted with the job's files.
  virtual Status SaveChunks(std::string_view job_id, const std::vector<ChunkRecord>& chunks) = 0;
  virtual Status MarkChunkDone(std::string_view job_id, int index, std::int64_t bytes) = 0;
  virtual Result<std::vector<ChunkRecord>> Chunks(std::string_view job_id) = 0;
  virtual Status DeleteChunks(std::string_view job_id) = 0;
};

}  // namespace tsdsr::dispatcher

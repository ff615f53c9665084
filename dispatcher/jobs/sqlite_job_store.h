// JobStore on an SQLite database file (Debian's libsqlite3): WAL journal, synchronous=FULL, so a job answered
// 202 is on disk before the answer leaves, and a dispatcher killed at any point reopens a consistent database.
// One connection, serialized by a mutex: every call is short (an indexed statement).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "dispatcher/jobs/job_store.h"

struct sqlite3;

namespace tsdsr::dispatcher {

class SqliteJobStore final : public JobStore {
 public:
  // Opens (creating when absent) the database at `path` and brings its schema up to date. InsufficientStorage
  // when the file cannot be created or written, FailedPrecondition for a database of a newer schema (written
  // by a newer dispatcher) or one that is not a job database.
  static Result<std::unique_ptr<SqliteJobStore>> Open(const std::string& path);
  ~SqliteJobStore() override;

  Status Insert(JobRecord& record) override;
  Status Update(const JobRecord& record) override;
  Status Delete(std::string_view id) override;
  Result<std::optional<JobRecord>> Get(std::string_view id) override;
  Result<std::optional<JobRecord>> FindByIdempotencyKey(std::string_view key) override;
  Result<std::vector<JobRecord>> List(const JobQuery& query) override;
  Result<std::vector<JobRecord>> Unfinished() override;
  Result<std::vector<JobRecord>> OldestStoredResults(int limit, std::int64_t finished_before) override;
  Result<int> PurgeFinishedBefore(std::int64_t finished_before, int limit) override;
  Result<StoreTotals> Totals() override;
  Status SaveChunks(std::string_view job_id, const std::vector<ChunkRecord>& chunks) override;
  Status MarkChunkDone(std::string_view job_id, int index, std::int64_t bytes) override;
  Result<std::vector<ChunkRecord>> Chunks(std::string_view job_id) override;
  Status DeleteChunks(std::string_view job_id) override;

 private:
  explicit SqliteJobStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Migrate();
  Result<std::optional<JobRecord>> GetWhere(const char* column, std::string_view value);

  sqlite3* db_;  // owned; guarded by mu_
  const std::string path_;
  std::mutex mu_;
};

}  // namespace tsdsr::dispatcher

#include "dispatcher/jobs/sqlite_job_store.h"

#include <sqlite3.h>

#include <array>

#include "dispatcher/jobs/sqlite_statement.h"

namespace tsdsr::dispatcher {
namespace {

// 1: image jobs; 2: video jobs (the encode settings, details and the chunks table); 3: the video's encoder family
// and the job's client.
constexpr int kSchemaVersion = 3;
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  scale INTEGER NOT NULL,
  process_size INTEGER NOT NULL,
  format TEXT NOT NULL,
  priority INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  input_width INTEGER NOT NULL,
  input_height INTEGER NOT NULL,
  filename TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  fingerprint TEXT NOT NULL,
  input_bytes INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  worker TEXT NOT NULL,
  error TEXT NOT NULL,
  error_code TEXT NOT NULL,
  output_width INTEGER NOT NULL,
  output_height INTEGER NOT NULL,
  result_type TEXT NOT NULL,
  result_bytes INTEGER NOT NULL,
  result TEXT NOT NULL,
  codec TEXT NOT NULL,
  crf INTEGER NOT NULL,
  preset TEXT NOT NULL,
  details TEXT NOT NULL,
  encoder TEXT NOT NULL,
  client TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  first INTEGER NOT NULL,
  last INTEGER NOT NULL,
  done INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY (job_id, idx)
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_by_result ON jobs(result, finished_ms);
)sql";

// From version 1: the columns version 2 added, with what a version 1 job (an image) means by them. The chunks
// table comes with kSchema.
constexpr const char* kFromVersion1 = R"sql(
ALTER TABLE jobs ADD COLUMN codec TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN crf INTEGER NOT NULL DEFAULT -1;
ALTER TABLE jobs ADD COLUMN preset TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN details TEXT NOT NULL DEFAULT '';
)sql";

// From version 2: videos were made with the software encoders only, and jobs had no client.
constexpr const char* kFromVersion2 = R"sql(
ALTER TABLE jobs ADD COLUMN encoder TEXT NOT NULL DEFAULT 'software';
ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT '';
)sql";

// Every column but seq, in the order BindRecord binds and ReadRecord reads them (seq is read last).
constexpr std::array<const char*, 32> kColumns = {
    "id",           "kind",          "state",        "scale",        "process_size",    "format",      "priority",
    "timeout_ms",   "input_width",   "input_height", "filename",     "idempotency_key", "fingerprint", "input_bytes",
    "created_ms",   "started_ms",    "finished_ms",  "attempts",     "worker",          "error",       "error_code",
    "output_width", "output_height", "result_type",  "result_bytes", "result", "codec", "crf", "preset", "details",
    "encoder", "client"};

std::string ColumnList() {
  std::string list;
  for (const char* c : kColumns) list += (list.empty() ? "" : ", ") + std::string(c);
  return list + ", seq";
}

std::string InsertSql() {
  std::string names;
  std::string marks;
  for (const char* c : kColumns) {
    names += (names.empty() ? "" : ", ") + std::string(c);
    marks += marks.empty() ? "?" : ", ?";
  }
  return "INSERT INTO jobs (" + names + ") VALUES (" + marks + ")";
}

std::string UpdateSql() {
  std::string sets;
  for (size_t i = 1; i < kColumns.size(); ++i) sets += (sets.empty() ? "" : ", ") + std::string(kColumns[i]) + " = ?";
  return "UPDATE jobs SET " + sets + " WHERE id = ?";
}

std::string SelectSql(const std::string& where_and_order) {
  return "SELECT " + ColumnList() + " FROM jobs " + where_and_order;
}

// Binds every column of `r` from parameter `first` on (with id first unless `id_last`).
void BindRecord(SqliteStatement& s, const JobRecord& r, bool id_last) {
  int i = 1;
  if (!id_last) s.Bind(i++, r.id);
  s.Bind(i++, JobKindName(r.kind));
  s.Bind(i++, JobStateName(r.state));
  s.Bind(i++, std::int64_t{r.spec.scale});
  s.Bind(i++, std::int64_t{r.spec.process_size});
  s.Bind(i++, r.spec.format);
  s.Bind(i++, std::int64_t{r.spec.priority});
  s.Bind(i++, r.spec.timeout_ms);
  s.Bind(i++, std::int64_t{r.spec.input_width});
  s.Bind(i++, std::int64_t{r.spec.input_height});
  s.Bind(i++, r.spec.filename);
  s.Bind(i++, r.idempotency_key, /*empty_is_null=*/true);
  s.Bind(i++, r.fingerprint);
  s.Bind(i++, r.input_bytes);
  s.Bind(i++, r.created_ms);
  s.Bind(i++, r.started_ms);
  s.Bind(i++, r.finished_ms);
  s.Bind(i++, std::int64_t{r.attempts});
  s.Bind(i++, r.worker);
  s.Bind(i++, r.error);
  s.Bind(i++, r.error_code);
  s.Bind(i++, std::int64_t{r.output_width});
  s.Bind(i++, std::int64_t{r.output_height});
  s.Bind(i++, r.result_type);
  s.Bind(i++, r.result_bytes);
  s.Bind(i++, ResultStateName(r.result));
  s.Bind(i++, r.spec.codec);
  s.Bind(i++, std::int64_t{r.spec.crf});
  s.Bind(i++, r.spec.preset);
  s.Bind(i++, r.details);
  s.Bind(i++, r.spec.encoder);
  s.Bind(i++, r.spec.client);
  if (id_last) s.Bind(i, r.id);
}

JobRecord ReadRecord(const SqliteStatement& s) {
  JobRecord r;
  int i = 0;
  r.id = s.Text(i++);
  r.kind = JobKindFromName(s.Text(i++)).value_or(JobKind::kAsync);
  r.state = JobStateFromName(s.Text(i++)).value_or(JobState::kFailed);
  r.spec.scale = static_cast<int>(s.Int(i++));
  r.spec.process_size = static_cast<int>(s.Int(i++));
  r.spec.format = s.Text(i++);
  r.spec.priority = static_cast<int>(s.Int(i++));
  r.spec.timeout_ms = s.Int(i++);
  r.spec.input_width = static_cast<int>(s.Int(i++));
  r.spec.input_height = static_cast<int>(s.Int(i++));
  r.spec.filename = s.Text(i++);
  r.idempotency_key = s.Text(i++);
  r.fingerprint = s.Text(i++);
  r.input_bytes = s.Int(i++);
  r.created_ms = s.Int(i++);
  r.started_ms = s.Int(i++);
  r.finished_ms = s.Int(i++);
  r.attempts = static_cast<int>(s.Int(i++));
  r.worker = s.Text(i++);
  r.error = s.Text(i++);
  r.error_code = s.Text(i++);
  r.output_width = static_cast<int>(s.Int(i++));
  r.output_height = static_cast<int>(s.Int(i++));
  r.result_type = s.Text(i++);
  r.result_bytes = s.Int(i++);
  r.result = ResultStateFromName(s.Text(i++)).value_or(ResultState::kNone);
  r.spec.codec = s.Text(i++);
  r.spec.crf = static_cast<int>(s.Int(i++));
  r.spec.preset = s.Text(i++);
  r.details = s.Text(i++);
  r.spec.encoder = s.Text(i++);
  r.spec.client = s.Text(i++);
  r.seq = s.Int(i);
  return r;
}

Result<std::vector<JobRecord>> ReadAll(SqliteStatement& s) {
  std::vector<JobRecord> records;
  while (s.Step()) records.push_back(ReadRecord(s));
  if (!s.status().ok()) return s.status();
  return records;
}

Status Exec(sqlite3* db, const char* sql, std::string_view what) {
  return SqliteStatus(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), what);
}

}  // namespace

Result<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(db, path));  // closes db on every path
  TSDSR_RETURN_IF_ERROR(SqliteStatus(db, rc, "cannot open the job database " + path));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  TSDSR_RETURN_IF_ERROR(store->Migrate());
  return store;
}

SqliteJobStore::~SqliteJobStore() { sqlite3_close(db_); }

Status SqliteJobStore::Migrate() {
  SqliteStatement wal(db_, "PRAGMA journal_mode = WAL");
  const bool is_wal = wal.Step() && wal.Text(0) == "wal";
  if (!wal.status().ok()) {
    if (wal.status().code() == StatusCode::kInternal) {  // e.g. "file is not a database"
      return Status::FailedPrecondition(path_ + " is not a job database: " + wal.status().message());
    }
    return Status(wal.status().code(), "cannot open the job database " + path_ + ": " + wal.status().message());
  }
  if (!is_wal) return Status::InsufficientStorage("the job database " + path_ + " cannot use a WAL journal");
  TSDSR_RETURN_IF_ERROR(Exec(db_, "PRAGMA synchronous = FULL", "job database settings"));
  SqliteStatement version(db_, "PRAGMA user_version");
  const std::int64_t found = version.Step() ? version.Int(0) : 0;
  TSDSR_RETURN_IF_ERROR(version.status());
  if (found > kSchemaVersion) {
    return Status::FailedPrecondition("the job database " + path_ + " has schema version " + std::to_string(found) +
                                      "; this dispatcher knows up to " + std::to_string(kSchemaVersion));
  }
  if (found == 1) TSDSR_RETURN_IF_ERROR(Exec(db_, kFromVersion1, "upgrading the job database from version 1"));
  if (found == 1 || found == 2)
    TSDSR_RETURN_IF_ERROR(Exec(db_, kFromVersion2, "upgrading the job database from version 2"));
  TSDSR_RETURN_IF_ERROR(Exec(db_, kSchema, "creating the job database tables"));
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  return Exec(db_, set_version.c_str(), "job database settings");
}

Status SqliteJobStore::Insert(JobRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, InsertSql());
  BindRecord(s, record, /*id_last=*/false);
  TSDSR_RETURN_IF_ERROR(s.Run());
  record.seq = sqlite3_last_insert_rowid(db_);
  return Status::Ok();
}

Status SqliteJobStore::Update(const JobRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, UpdateSql());
  BindRecord(s, record, /*id_last=*/true);
  TSDSR_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no job " + record.id);
  return Status::Ok();
}

Status SqliteJobStore::Delete(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, "DELETE FROM jobs WHERE id = ?");
  s.Bind(1, id);
  return s.Run();
}

Result<std::optional<JobRecord>> SqliteJobStore::GetWhere(const char* column, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, SelectSql(std::string("WHERE ") + column + " = ?"));
  s.Bind(1, value);
  if (s.Step()) return std::optional<JobRecord>(ReadRecord(s));
  if (!s.status().ok()) return s.status();
  return std::optional<JobRecord>();
}

Result<std::optional<JobRecord>> SqliteJobStore::Get(std::string_view id) { return GetWhere("id", id); }

Result<std::optional<JobRecord>> SqliteJobStore::FindByIdempotencyKey(std::string_view key) {
  return GetWhere("idempotency_key", key);
}

Result<std::vector<JobRecord>> SqliteJobStore::List(const JobQuery& query) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string where = "WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR seq < (SELECT seq FROM jobs WHERE id = ?2))";
  if (!query.after.empty()) {
    SqliteStatement known(db_, "SELECT 1 FROM jobs WHERE id = ?");
    known.Bind(1, query.after);
    if (!known.Step()) {
      TSDSR_RETURN_IF_ERROR(known.status());
      return Status::InvalidArgument("after: there is no job " + query.after);
    }
  }
  SqliteStatement s(db_, SelectSql(where + " ORDER BY seq DESC LIMIT ?3"));
  s.Bind(1, query.state ? JobStateName(*query.state) : std::string_view());
  s.Bind(2, query.after);
  s.Bind(3, std::int64_t{query.limit});
  return ReadAll(s);
}

Result<std::vector<JobRecord>> SqliteJobStore::Unfinished() {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, SelectSql("WHERE state IN ('queued', 'running') ORDER BY seq"));
  return ReadAll(s);
}

Result<std::vector<JobRecord>> SqliteJobStore::OldestStoredResults(int limit, std::int64_t finished_before) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, SelectSql("WHERE result = 'stored' AND (?1 = 0 OR finished_ms < ?1) "
                                   "ORDER BY finished_ms, seq LIMIT ?2"));
  s.Bind(1, finished_before);
  s.Bind(2, std::int64_t{limit});
  return ReadAll(s);
}

Result<int> SqliteJobStore::PurgeFinishedBefore(std::int64_t finished_before, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_,
                    "DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE state IN ('succeeded', "
                    "'failed', 'cancelled') AND result != 'stored' AND finished_ms < ? ORDER BY seq LIMIT ?)");
  s.Bind(1, finished_before);
  s.Bind(2, std::int64_t{limit});
  TSDSR_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_);
}

Result<StoreTotals> SqliteJobStore::Totals() {
  std::lock_guard<std::mutex> lock(mu_);
  StoreTotals totals;
  SqliteStatement by_state(db_, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
  while (by_state.Step()) {
    if (auto state = JobStateFromName(by_state.Text(0))) totals.jobs[*state] = by_state.Int(1);
  }
  TSDSR_RETURN_IF_ERROR(by_state.status());
  SqliteStatement files(db_, "SELECT COUNT(*), COALESCE(SUM(result_bytes), 0) FROM jobs WHERE result = 'stored'");
  if (files.Step()) {
    totals.stored_results = files.Int(0);
    totals.result_bytes = files.Int(1);
  }
  TSDSR_RETURN_IF_ERROR(files.status());
  SqliteStatement inputs(db_, "SELECT COALESCE(SUM(input_bytes), 0) FROM jobs WHERE state IN ('queued', 'running')");
  if (inputs.Step()) totals.input_bytes = inputs.Int(0);
  TSDSR_RETURN_IF_ERROR(inputs.status());
  return totals;
}

Status SqliteJobStore::SaveChunks(std::string_view job_id, const std::vector<ChunkRecord>& chunks) {
  std::lock_guard<std::mutex> lock(mu_);
  TSDSR_RETURN_IF_ERROR(Exec(db_, "BEGIN", "job database"));
  Status status;
  for (const ChunkRecord& c : chunks) {
    SqliteStatement s(db_, "INSERT OR REPLACE INTO chunks (job_id, idx, first, last, done, bytes) VALUES (?, ?, ?, ?, ?, ?)");
    s.Bind(1, job_id);
    s.Bind(2, std::int64_t{c.index});
    s.Bind(3, c.first);
    s.Bind(4, c.last);
    s.Bind(5, std::int64_t{c.done ? 1 : 0});
    s.Bind(6, c.bytes);
    status = s.Run();
    if (!status.ok()) break;
  }
  (void)Exec(db_, status.ok() ? "COMMIT" : "ROLLBACK", "job database");
  return status;
}

Status SqliteJobStore::MarkChunkDone(std::string_view job_id, int index, std::int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, "UPDATE chunks SET done = 1, bytes = ? WHERE job_id = ? AND idx = ?");
  s.Bind(1, bytes);
  s.Bind(2, job_id);
  s.Bind(3, std::int64_t{index});
  TSDSR_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) return Status::NotFound("no chunk " + std::to_string(index) + " of job " + std::string(job_id));
  return Status::Ok();
}

Result<std::vector<ChunkRecord>> SqliteJobStore::Chunks(std::string_view job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, "SELECT idx, first, last, done, bytes FROM chunks WHERE job_id = ? ORDER BY idx");
  s.Bind(1, job_id);
  std::vector<ChunkRecord> chunks;
  while (s.Step()) {
    chunks.push_back({static_cast<int>(s.Int(0)), s.Int(1), s.Int(2), s.Int(3) != 0, s.Int(4)});
  }
  TSDSR_RETURN_IF_ERROR(s.status());
  return chunks;
}

Status SqliteJobStore::DeleteChunks(std::string_view job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStatement s(db_, "DELETE FROM chunks WHERE job_id = ?");
  s.Bind(1, job_id);
  return s.Run();
}

}  // namespace tsdsr::dispatcher

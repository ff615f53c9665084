#include "dispatcher/jobs/sqlite_job_store.h"

#include <sqlite3.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "dispatcher/jobs/job_ids.h"

namespace tsdsr::dispatcher {
namespace {

using tsdsr::testing::ScratchDir;

JobRecord Record(std::int64_t created_ms, JobState state = JobState::kQueued) {
  JobRecord r;
  r.id = NewJobId();
  r.state = state;
  r.spec.scale = 4;
  r.spec.process_size = 96;
  r.spec.format = "webp";
  r.spec.priority = 3;
  r.spec.input_width = 33;
  r.spec.input_height = 17;
  r.spec.filename = "frame 0001.png";
  r.fingerprint = "abc";
  r.input_bytes = 1234;
  r.created_ms = created_ms;
  return r;
}

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteJobStore> Open() {
    auto store = SqliteJobStore::Open(dir_.File("jobs.db"));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  ScratchDir dir_{"tsdsr-store"};
};

TEST_F(SqliteJobStoreTest, RecordsRoundTripEveryFieldAndSurviveReopening) {
  JobRecord r = Record(1000);
  r.idempotency_key = "key-1";
  r.state = JobState::kSucceeded;
  r.started_ms = 1100;
  r.finished_ms = 1200;
  r.attempts = 2;
  r.worker = "host-1-cuda0";
  r.output_width = 132;
  r.output_height = 68;
  r.result_type = "image/webp";
  r.result_bytes = 999;
  r.result = ResultState::kStored;
  {
    auto store = Open();
    ASSERT_TRUE(store->Insert(r).ok());
    EXPECT_GT(r.seq, 0);
  }
  auto store = Open();  // a new connection: what the next dispatcher sees
  auto got = store->Get(r.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  const JobRecord& g = **got;
  EXPECT_EQ(g.id, r.id);
  EXPECT_EQ(g.state, JobState::kSucceeded);
  EXPECT_EQ(g.spec.scale, 4);
  EXPECT_EQ(g.spec.process_size, 96);
  EXPECT_EQ(g.spec.format, "webp");
  EXPECT_EQ(g.spec.priority, 3);
  EXPECT_EQ(g.spec.filename, "frame 0001.png");
  EXPECT_EQ(g.spec.input_width, 33);
  EXPECT_EQ(g.idempotency_key, "key-1");
  EXPECT_EQ(g.started_ms, 1100);
  EXPECT_EQ(g.finished_ms, 1200);
  EXPECT_EQ(g.attempts, 2);
  EXPECT_EQ(g.worker, "host-1-cuda0");
  EXPECT_EQ(g.output_width, 132);
  EXPECT_EQ(g.result_type, "image/webp");
  EXPECT_EQ(g.result_bytes, 999);
  EXPECT_EQ(g.result, ResultState::kStored);
  EXPECT_EQ(g.seq, r.seq);
  EXPECT_FALSE(store->Get(NewJobId())->has_value());
}

TEST_F(SqliteJobStoreTest, IdempotencyKeysAreUniqueButOptional) {
  auto store = Open();
  JobRecord a = Record(1);
  a.idempotency_key = "retry-me";
  ASSERT_TRUE(store->Insert(a).ok());
  JobRecord b = Record(2);
  b.idempotency_key = "retry-me";
  EXPECT_EQ(store->Insert(b).code(), StatusCode::kConflict);
  auto found = store->FindByIdempotencyKey("retry-me");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, a.id);
  JobRecord c = Record(3);
  JobRecord d = Record(4);  // neither has a key: no clash
  EXPECT_TRUE(store->Insert(c).ok());
  EXPECT_TRUE(store->Insert(d).ok());
  EXPECT_FALSE(store->FindByIdempotencyKey("")->has_value());
  EXPECT_EQ(store->Insert(c).code(), StatusCode::kConflict) << "the same id twice";
}

TEST_F(SqliteJobStoreTest, UpdateReplacesAndDeleteRemoves) {
  auto store = Open();
  JobRecord r = Record(5);
  ASSERT_TRUE(store->Insert(r).ok());
  r.state = JobState::kRunning;
  r.worker = "w";
  ASSERT_TRUE(store->Update(r).ok());
  EXPECT_EQ((*store->Get(r.id))->state, JobState::kRunning);
  JobRecord unknown = Record(6);
  EXPECT_EQ(store->Update(unknown).code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->Delete(r.id).ok());
  EXPECT_FALSE(store->Get(r.id)->has_value());
  EXPECT_TRUE(store->Delete(r.id).ok()) << "deleting what is gone is fine";
}

TEST_F(SqliteJobStoreTest, ListsNewestFirstInPagesAndByState) {
  auto store = Open();
  std::vector<JobRecord> records;
  for (int i = 0; i < 7; ++i) {
    records.push_back(Record(i, i % 2 == 0 ? JobState::kQueued : JobState::kFailed));
    ASSERT_TRUE(store->Insert(records.back()).ok());
  }
  auto first = store->List({std::nullopt, 3, ""});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].id, records[6].id);
  EXPECT_EQ((*first)[2].id, records[4].id);
  auto second = store->List({std::nullopt, 3, (*first)[2].id});
  ASSERT_EQ(second->size(), 3u);
  EXPECT_EQ((*second)[0].id, records[3].id);
  auto last = store->List({std::nullopt, 3, (*second)[2].id});
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].id, records[0].id);
  auto failed = store->List({JobState::kFailed, 10, ""});
  ASSERT_EQ(failed->size(), 3u);
  for (const auto& r : *failed) EXPECT_EQ(r.state, JobState::kFailed);
  EXPECT_EQ(store->List({std::nullopt, 3, NewJobId()}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteJobStoreTest, UnfinishedStoredResultsPurgeAndTotals) {
  auto store = Open();
  JobRecord queued = Record(1, JobState::kQueued);
  JobRecord running = Record(2, JobState::kRunning);
  JobRecord old_result = Record(3, JobState::kSucceeded);
  old_result.finished_ms = 100;
  old_result.result = ResultState::kStored;
  old_result.result_bytes = 50;
  old_result.input_bytes = 0;
  JobRecord new_result = old_result;
  new_result.id = NewJobId();
  new_result.finished_ms = 200;
  new_result.result_bytes = 70;
  JobRecord expired = Record(4, JobState::kSucceeded);
  expired.finished_ms = 50;
  expired.result = ResultState::kExpired;
  expired.input_bytes = 0;
  for (JobRecord* r : {&queued, &running, &new_result, &old_result, &expired}) ASSERT_TRUE(store->Insert(*r).ok());

  auto unfinished = store->Unfinished();
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ((*unfinished)[0].id, queued.id) << "oldest first";
  auto stored = store->OldestStoredResults(10, 0);
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].id, old_result.id) << "earliest finished first";
  EXPECT_EQ(store->OldestStoredResults(10, 150)->size(), 1u);

  auto totals = store->Totals();
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->jobs[JobState::kQueued], 1);
  EXPECT_EQ(totals->jobs[JobState::kSucceeded], 3);
  EXPECT_EQ(totals->stored_results, 2);
  EXPECT_EQ(totals->result_bytes, 120);
  EXPECT_EQ(totals->input_bytes, 2468) << "uploads of the queued and the running job";

  auto purged = store->PurgeFinishedBefore(1000, 100);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1) << "only the finished record whose output is gone";
  EXPECT_FALSE(store->Get(expired.id)->has_value());
  EXPECT_TRUE(store->Get(old_result.id)->has_value());
}

TEST_F(SqliteJobStoreTest, ChunksOfAVideoJobAreKeptAndMarked) {
  auto store = Open();
  JobRecord r = Record(1);
  r.kind = JobKind::kVideo;
  r.spec.codec = "hevc";
  r.spec.crf = 24;
  r.spec.preset = "medium";
  r.details = R"({"source":{"frames":45}})";
  ASSERT_TRUE(store->Insert(r).ok());
  ASSERT_TRUE(store->SaveChunks(r.id, {{0, 0, 14, false, 0}, {1, 15, 29, false, 0}, {2, 30, 44, false, 0}}).ok());
  ASSERT_TRUE(store->MarkChunkDone(r.id, 1, 4096).ok());
  EXPECT_EQ(store->MarkChunkDone(r.id, 7, 1).code(), StatusCode::kNotFound);
  auto reopened = Open();
  auto chunks = reopened->Chunks(r.id);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_FALSE((*chunks)[0].done);
  EXPECT_TRUE((*chunks)[1].done);
  EXPECT_EQ((*chunks)[1].bytes, 4096);
  EXPECT_EQ((*chunks)[2].first, 30);
  EXPECT_EQ((*chunks)[2].last, 44);
  const JobRecord got = **reopened->Get(r.id);
  EXPECT_EQ(got.kind, JobKind::kVideo);
  EXPECT_EQ(got.spec.codec, "hevc");
  EXPECT_EQ(got.spec.crf, 24);
  EXPECT_EQ(got.spec.preset, "medium");
  EXPECT_EQ(got.details, r.details);
  ASSERT_TRUE(reopened->DeleteChunks(r.id).ok());
  EXPECT_TRUE(reopened->Chunks(r.id)->empty());
}

TEST_F(SqliteJobStoreTest, UsesAWriteAheadLog) {
  auto store = Open();
  JobRecord r = Record(1);
  ASSERT_TRUE(store->Insert(r).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("jobs.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteJobStoreTest, RefusesFilesThatAreNotItsDatabase) {
  std::ofstream(dir_.File("garbage.db")) << std::string(8192, 'x');
  auto garbage = SqliteJobStore::Open(dir_.File("garbage.db"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(garbage.status().message().find("is not a job database"), std::string::npos) << garbage.status().message();

  { auto store = Open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("jobs.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto newer = SqliteJobStore::Open(dir_.File("jobs.db"));
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos);
}

// A database written by a dispatcher before video jobs (schema version 1) opens, keeps its jobs, and takes
// video jobs from then on.
TEST_F(SqliteJobStoreTest, AVersionOneDatabaseIsUpgraded) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("jobs.db").c_str(), &db), SQLITE_OK);
  const char* v1 = R"sql(
    CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
      state TEXT NOT NULL, scale INTEGER NOT NULL, process_size INTEGER NOT NULL, format TEXT NOT NULL,
      priority INTEGER NOT NULL, timeout_ms INTEGER NOT NULL, input_width INTEGER NOT NULL,
      input_height INTEGER NOT NULL, filename TEXT NOT NULL, idempotency_key TEXT UNIQUE, fingerprint TEXT NOT NULL,
      input_bytes INTEGER NOT NULL, created_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL,
      finished_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, worker TEXT NOT NULL, error TEXT NOT NULL,
      error_code TEXT NOT NULL, output_width INTEGER NOT NULL, output_height INTEGER NOT NULL,
      result_type TEXT NOT NULL, result_bytes INTEGER NOT NULL, result TEXT NOT NULL);
    INSERT INTO jobs VALUES (NULL, 'j-old', 'image', 'succeeded', 2, 128, 'png', 0, 60000, 10, 20, 'a.png', NULL,
      'f', 99, 1000, 1001, 1002, 1, 'w', '', '', 20, 40, 'image/png', 500, 'stored');
    PRAGMA user_version = 1;
  )sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto old = store->Get("j-old");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_TRUE(old->has_value());
  EXPECT_EQ((*old)->spec.filename, "a.png");
  EXPECT_EQ((*old)->spec.crf, -1);
  EXPECT_EQ((*old)->result_bytes, 500);
  EXPECT_EQ((*old)->spec.encoder, "software");
  JobRecord video = Record(2000);
  video.kind = JobKind::kVideo;
  video.spec.codec = "hevc";
  video.spec.encoder = "nvenc";
  video.spec.client = "studio-a";
  ASSERT_TRUE(store->Insert(video).ok());
  ASSERT_TRUE(store->SaveChunks(video.id, {{0, 0, 9, false, 0}}).ok());
  EXPECT_EQ((*store->Get(video.id))->spec.codec, "hevc");
  EXPECT_EQ((*store->Get(video.id))->spec.encoder, "nvenc");
  EXPECT_EQ((*store->Get(video.id))->spec.client, "studio-a");
  store.reset();
  EXPECT_NE(Open(), nullptr) << "and opens again as version 3";
}

// A database of schema version 2 (video jobs before NVENC) keeps its videos, made with the software encoders.
TEST_F(SqliteJobStoreTest, AVersionTwoDatabaseIsUpgraded) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    JobRecord video = Record(3000);
    video.kind = JobKind::kVideo;
    video.spec.codec = "h264";
    ASSERT_TRUE(store->Insert(video).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("jobs.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE jobs DROP COLUMN encoder; ALTER TABLE jobs DROP COLUMN client; "
                         "PRAGMA user_version = 2;", nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto all = store->List(JobQuery{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().spec.codec, "h264");
  EXPECT_EQ(all->front().spec.encoder, "software");
}

TEST_F(SqliteJobStoreTest, AMissingFolderIsAStorageError) {
  auto store = SqliteJobStore::Open(dir_.File("no/such/folder/jobs.db"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInsufficientStorage) << store.status().ToString();
}

}  // namespace
}  // namespace tsdsr::dispatcher

#include "dispatcher/jobs/result_retention.h"

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "dispatcher/jobs/job_ids.h"
#include "dispatcher/jobs/sqlite_job_store.h"

namespace tsdsr::dispatcher {
namespace {

class ResultRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::move(*DataDir::Open(scratch_.path()));
    store_ = std::move(*SqliteJobStore::Open(dir_->DatabasePath()));
  }
  // A succeeded job that finished at `finished_ms` with a stored output of `bytes` bytes.
  std::string AddResult(std::int64_t finished_ms, size_t bytes) {
    JobRecord r;
    r.id = NewJobId();
    r.state = JobState::kSucceeded;
    r.finished_ms = finished_ms;
    r.result = ResultState::kStored;
    r.result_bytes = static_cast<std::int64_t>(bytes);
    EXPECT_TRUE(dir_->Write(StoredFile::kResult, r.id, std::string(bytes, 'x')).ok());
    EXPECT_TRUE(store_->Insert(r).ok());
    return r.id;
  }
  ResultState StateOf(const std::string& id) { return (*store_->Get(id))->result; }
  bool FileExists(const std::string& id) { return dir_->Read(StoredFile::kResult, id).ok(); }

  tsdsr::testing::ScratchDir scratch_{"tsdsr-retention"};
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<SqliteJobStore> store_;
};

TEST_F(ResultRetentionTest, OutputsExpireAfterTheirTtl) {
  const std::string old_one = AddResult(1000, 10);
  const std::string new_one = AddResult(5000, 10);
  ResultRetention retention({/*ttl*/ 3000, /*max bytes*/ 0, /*history*/ 0}, *store_, *dir_);
  RetentionPass pass = retention.Run(6000);
  EXPECT_EQ(pass.expired, 1);
  EXPECT_EQ(pass.evicted, 0);
  EXPECT_EQ(StateOf(old_one), ResultState::kExpired);
  EXPECT_FALSE(FileExists(old_one));
  EXPECT_EQ(StateOf(new_one), ResultState::kStored);
  EXPECT_TRUE(FileExists(new_one));
  EXPECT_EQ((*store_->Get(old_one))->result_bytes, 0);
}

TEST_F(ResultRetentionTest, TheSizeCapEvictsTheEarliestFinishedFirst) {
  const std::string a = AddResult(300, 400);
  const std::string b = AddResult(100, 400);  // finished first, though stored second
  const std::string c = AddResult(200, 400);
  const std::string d = AddResult(400, 400);
  ResultRetention retention({/*ttl*/ 0, /*max bytes*/ 1000, /*history*/ 0}, *store_, *dir_);
  RetentionPass pass = retention.Run(500);
  EXPECT_EQ(pass.evicted, 2) << "1600 bytes down to 800";
  EXPECT_EQ(StateOf(b), ResultState::kEvicted);
  EXPECT_EQ(StateOf(c), ResultState::kEvicted);
  EXPECT_EQ(StateOf(a), ResultState::kStored);
  EXPECT_EQ(StateOf(d), ResultState::kStored);
  EXPECT_FALSE(FileExists(b));
  EXPECT_TRUE(FileExists(a));
  EXPECT_EQ(store_->Totals()->result_bytes, 800);
  EXPECT_EQ(retention.Run(600).evicted, 0) << "under the cap now";
}

TEST_F(ResultRetentionTest, RecordsWithoutOutputsArePurgedAfterTheHistory) {
  const std::string id = AddResult(1000, 10);
  ResultRetention retention({/*ttl*/ 500, /*max bytes*/ 0, /*history*/ 10000}, *store_, *dir_);
  EXPECT_EQ(retention.Run(2000).expired, 1);
  EXPECT_TRUE(store_->Get(id)->has_value()) << "the record says why the output went";
  EXPECT_EQ(retention.Run(12000).purged, 1);
  EXPECT_FALSE(store_->Get(id)->has_value());
}

}  // namespace
}  // namespace tsdsr::dispatcher

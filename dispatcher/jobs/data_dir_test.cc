#include "dispatcher/jobs/data_dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/testing_scratch_dir.h"
#include "dispatcher/jobs/job_ids.h"

namespace tsdsr::dispatcher {
namespace {

using tsdsr::testing::ScratchDir;

TEST(DataDirTest, WritesReadsListsAndRemovesWholeFiles) {
  ScratchDir scratch("tsdsr-data");
  auto dir = DataDir::Open(scratch.File("data"));
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  const std::string id = NewJobId();
  const std::string bytes(100000, '\x7f');
  ASSERT_TRUE((*dir)->Write(StoredFile::kResult, id, bytes).ok());
  EXPECT_EQ((*dir)->PathOf(StoredFile::kResult, id), scratch.File("data") + "/results/" + id);
  EXPECT_EQ(*(*dir)->Read(StoredFile::kResult, id), bytes);
  EXPECT_EQ((*dir)->Read(StoredFile::kInput, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*dir)->List(StoredFile::kResult), std::vector<std::string>{id});
  EXPECT_TRUE((*dir)->List(StoredFile::kInput).empty());
  EXPECT_TRUE(std::filesystem::is_empty(scratch.File("data") + "/tmp")) << "nothing left half-written";
  (*dir)->Remove(StoredFile::kResult, id);
  (*dir)->Remove(StoredFile::kResult, id);  // twice is fine
  EXPECT_EQ((*dir)->Read(StoredFile::kResult, id).status().code(), StatusCode::kNotFound);
  EXPECT_GT((*dir)->AvailableBytes(), 0);
}

TEST(DataDirTest, OneDispatcherAtATime) {
  ScratchDir scratch("tsdsr-data");
  auto first = DataDir::Open(scratch.path());
  ASSERT_TRUE(first.ok());
  auto second = DataDir::Open(scratch.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another dispatcher"), std::string::npos);
  first->reset();
  EXPECT_TRUE(DataDir::Open(scratch.path()).ok()) << "the lock goes with the first one";
}

TEST(DataDirTest, LeftoversOfAKilledWriteAreRemovedAtStart) {
  ScratchDir scratch("tsdsr-data");
  std::filesystem::create_directories(scratch.File("tmp"));
  std::ofstream(scratch.File("tmp/half-written")) << "partial";
  auto dir = DataDir::Open(scratch.path());
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(std::filesystem::is_empty(scratch.File("tmp")));
}

TEST(DataDirTest, AnUncreatableDirectoryIsAStorageError) {
  ScratchDir scratch("tsdsr-data");
  std::ofstream(scratch.File("a-file")) << "not a folder";
  auto dir = DataDir::Open(scratch.File("a-file/data"));
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInsufficientStorage);
  EXPECT_NE(dir.status().message().find("cannot create the data dir"), std::string::npos);
}

TEST(JobIdsTest, RandomAndWellFormed) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(NewJobId());
  for (const auto& id : ids) EXPECT_TRUE(IsJobId(id)) << id;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "no id twice";
  EXPECT_FALSE(IsJobId("0123456789abcdef0123456789abcde"));     // 31 digits
  EXPECT_FALSE(IsJobId("0123456789ABCDEF0123456789ABCDEF"));    // upper case
  EXPECT_FALSE(IsJobId("../../../../etc/passwd0123456789ab"));  // not a path
  EXPECT_FALSE(IsJobId(""));
}

}  // namespace
}  // namespace tsdsr::dispatcher

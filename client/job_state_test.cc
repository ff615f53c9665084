#include "client/job_state.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "client/files.h"
#include "client/testing_client_fixture.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using testing::WriteBytes;

TEST(JobStateTest, Fnv1a64KnownValues) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

class JobStateFileTest : public testing::ClientTest {};

TEST_F(JobStateFileTest, IdempotencyKeyIsStableAndFollowsTheFileAndTheParameters) {
  fs::path image = dir_ / "a.png";
  WriteBytes(image, "12345");
  Result<std::string> key = IdempotencyKeyFor(image.string(), 2, 128, "");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->size(), 6u + 16u);
  EXPECT_EQ(key->rfind("tsdsr-", 0), 0u);
  EXPECT_EQ(*IdempotencyKeyFor(image.string(), 2, 128, ""), *key);
  EXPECT_EQ(*IdempotencyKeyFor((dir_ / "." / "a.png").string(), 2, 128, ""), *key) << "same absolute path";
  EXPECT_NE(*IdempotencyKeyFor(image.string(), 4, 128, ""), *key);
  EXPECT_NE(*IdempotencyKeyFor(image.string(), 2, 64, ""), *key);
  EXPECT_NE(*IdempotencyKeyFor(image.string(), 2, 128, "webp"), *key);
  timeval times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimes(image.c_str(), times), 0);
  EXPECT_NE(*IdempotencyKeyFor(image.string(), 2, 128, ""), *key) << "a touched file is another submission";
  EXPECT_FALSE(IdempotencyKeyFor((dir_ / "missing.png").string(), 2, 128, "").ok());
}

TEST_F(JobStateFileTest, RoundTripAndRemovalWhenEmpty) {
  std::string path = BatchStatePath(dir_.string());
  EXPECT_EQ(path, (dir_ / ".tsdsr-client-jobs.json").string());
  EXPECT_EQ(SingleStatePath("out/a_x2.png"), "out/a_x2.png.tsdsr-job.json");
  {
    Result<std::unique_ptr<JobStateFile>> state = JobStateFile::Open(path);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ((*state)->size(), 0u);
    ASSERT_TRUE((*state)->Remember("/in/a.png", {"j-1", "tsdsr-aaaa"}).ok());
    ASSERT_TRUE((*state)->Remember("/in/b.png", {"j-2", "tsdsr-bbbb"}).ok());
    ASSERT_TRUE((*state)->Remember("/in/a.png", {"j-3", "tsdsr-cccc"}).ok());
  }
  EXPECT_NE(ReadAll(path).find("\"j-3\""), std::string::npos);
  Result<std::unique_ptr<JobStateFile>> state = JobStateFile::Open(path);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  ASSERT_EQ((*state)->size(), 2u);
  EXPECT_EQ((*state)->Find("/in/a.png")->id, "j-3");
  EXPECT_EQ((*state)->Find("/in/a.png")->key, "tsdsr-cccc");
  EXPECT_EQ((*state)->Find("/in/b.png")->id, "j-2");
  EXPECT_FALSE((*state)->Find("/in/c.png").has_value());
  ASSERT_TRUE((*state)->Forget("/in/a.png").ok());
  EXPECT_TRUE(fs::exists(path));
  ASSERT_TRUE((*state)->Forget("/in/nothing.png").ok());
  ASSERT_TRUE((*state)->Forget("/in/b.png").ok());
  EXPECT_FALSE(fs::exists(path)) << "an empty state leaves no file";
}

TEST_F(JobStateFileTest, ADamagedFileIsReportedAndCanBeReplaced) {
  std::string path = (dir_ / "state.json").string();
  for (const char* text : {"not json", R"({"version": 2, "jobs": {}})", R"({"version": 1, "jobs": {"a": 5}})"}) {
    WriteBytes(path, text);
    Result<std::unique_ptr<JobStateFile>> state = JobStateFile::Open(path);
    ASSERT_FALSE(state.ok()) << text;
    EXPECT_EQ(state.status().message(), "'" + path + "' is not a tsdsr-client state file");
  }
  std::string warning;
  std::unique_ptr<JobStateFile> state = OpenStateOrStartEmpty(path, &warning);
  EXPECT_EQ(warning, "'" + path + "' is not a tsdsr-client state file; starting with no remembered jobs");
  ASSERT_TRUE(state->Remember("/x.png", {"j", "k"}).ok());
  EXPECT_TRUE(JobStateFile::Open(path).ok());
}

}  // namespace
}  // namespace tsdsr::client

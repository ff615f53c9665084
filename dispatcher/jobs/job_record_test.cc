#include "dispatcher/jobs/job_record.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

TEST(JobRecordTest, EveryStateKindAndResultHasItsOwnName) {
  for (JobState state :
       {JobState::kQueued, JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) {
    EXPECT_EQ(JobStateFromName(JobStateName(state)), state) << JobStateName(state);
  }
  for (JobKind kind : {JobKind::kAsync, JobKind::kBatch, JobKind::kVideo}) {
    EXPECT_EQ(JobKindFromName(JobKindName(kind)), kind) << JobKindName(kind);
  }
  for (ResultState result : {ResultState::kNone, ResultState::kStored, ResultState::kExpired, ResultState::kEvicted}) {
    EXPECT_EQ(ResultStateFromName(ResultStateName(result)), result) << ResultStateName(result);
  }
  EXPECT_EQ(JobKindName(JobKind::kVideo), "video");
  EXPECT_FALSE(JobStateFromName("done").has_value());
  EXPECT_TRUE(IsFinished(JobState::kCancelled));
  EXPECT_FALSE(IsFinished(JobState::kRunning));
}

}  // namespace
}  // namespace tsdsr::dispatcher

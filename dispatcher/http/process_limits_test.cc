#include "dispatcher/http/process_limits.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

TEST(ProcessLimitsTest, TheOpenFileLimitRisesUpToTheHardLimitAndNeverFalls) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  const std::int64_t hard = before.rlim_max == RLIM_INFINITY ? std::int64_t{1} << 20 : before.rlim_max;
  const std::int64_t granted = RaiseOpenFileLimit(hard);
  EXPECT_EQ(granted, hard);
  EXPECT_EQ(RaiseOpenFileLimit(16), granted) << "a lower wish leaves the limit as it is";
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(static_cast<std::int64_t>(after.rlim_cur), granted);
}

}  // namespace
}  // namespace tsdsr::dispatcher

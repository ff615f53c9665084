#include "client/retry_policy.h"

#include <chrono>
#include <optional>

#include <gtest/gtest.h>

namespace tsdsr::client {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicyTest, ClassifiesAnswers) {
  for (long status : {429L, 503L}) EXPECT_EQ(ClassifyAttempt(status), AttemptClass::kBusy) << status;
  for (long status : {0L, 502L, 504L, 507L}) EXPECT_EQ(ClassifyAttempt(status), AttemptClass::kTransient) << status;
  for (long status : {200L, 202L, 400L, 401L, 404L, 409L, 413L, 415L, 500L}) {
    EXPECT_EQ(ClassifyAttempt(status), AttemptClass::kFinal) << status;
  }
}

TEST(RetryPolicyTest, ParsesRetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfter("0"), std::chrono::seconds(0));
  EXPECT_EQ(ParseRetryAfter(" 12 "), std::chrono::seconds(12));
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999"), std::nullopt);
}

TEST(RetryPolicyTest, BusyWaitsWhatRetryAfterSaysPlusJitterCappedAtAMinute) {
  RetryPolicy policy{RetrySettings()};
  EXPECT_EQ(policy.NextDelay(503, "2", 0.0), milliseconds(2000));
  EXPECT_EQ(policy.NextDelay(429, "2", 0.5), milliseconds(2200));
  EXPECT_EQ(policy.NextDelay(503, "2", 0.999), milliseconds(2399));
  EXPECT_EQ(policy.NextDelay(503, "0", 0.7), milliseconds(0));
  EXPECT_EQ(policy.NextDelay(503, "600", 0.0), milliseconds(60000));
  EXPECT_EQ(policy.NextDelay(503, "600", 1.0), milliseconds(72000)) << "jitter stays within 20 %";
}

TEST(RetryPolicyTest, BusyRetriesStopAfterTenMinutesOfWaiting) {
  RetryPolicy policy{RetrySettings()};
  int waits = 0;
  while (policy.NextDelay(503, "60", 0.0)) ++waits;
  EXPECT_EQ(waits, 10);
  EXPECT_EQ(policy.busy_waited(), kBusyRetryBudget);
}

TEST(RetryPolicyTest, BusyWithoutRetryAfterBacksOff) {
  RetryPolicy policy{RetrySettings()};
  EXPECT_EQ(policy.NextDelay(503, "", 0.0), milliseconds(500));
  EXPECT_EQ(policy.NextDelay(503, "soon", 0.0), milliseconds(1000));
  EXPECT_EQ(policy.NextDelay(503, "", 0.0), milliseconds(2000));
}

TEST(RetryPolicyTest, TransientFailuresBackOffExponentiallyUpToMaxRetries) {
  RetryPolicy policy{RetrySettings()};  // 5 retries from 0.5 s
  for (long ms : {500, 1000, 2000, 4000, 8000}) EXPECT_EQ(policy.NextDelay(0, "", 0.9), milliseconds(ms));
  EXPECT_EQ(policy.NextDelay(502, "", 0.0), std::nullopt);

  RetrySettings many;
  many.max_retries = 9;
  RetryPolicy capped(many);
  for (long ms : {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}) {
    EXPECT_EQ(capped.NextDelay(504, "", 0.0), milliseconds(ms));
  }
  EXPECT_EQ(capped.NextDelay(504, "", 0.0), std::nullopt);
}

TEST(RetryPolicyTest, NoRetriesMeansTheFirstFailureIsFinal) {
  RetrySettings none;
  none.max_retries = 0;
  RetryPolicy policy(none);
  EXPECT_EQ(policy.NextDelay(0, "", 0.0), std::nullopt);
}

TEST(RetryPolicyTest, FinalAnswersAreNotRetriedAndResetTheTransientCount) {
  RetrySettings settings;
  settings.max_retries = 2;
  RetryPolicy policy(settings);
  for (long status : {200L, 400L, 404L, 413L, 415L, 500L}) EXPECT_EQ(policy.NextDelay(status, "1", 0.0), std::nullopt);
  EXPECT_EQ(policy.NextDelay(0, "", 0.0), milliseconds(500));
  EXPECT_EQ(policy.NextDelay(0, "", 0.0), milliseconds(1000));
  EXPECT_EQ(policy.transient_failures(), 2);
  EXPECT_EQ(policy.NextDelay(200, "", 0.0), std::nullopt);  // e.g. a poll that got through
  EXPECT_EQ(policy.transient_failures(), 0);
  EXPECT_EQ(policy.NextDelay(0, "", 0.0), milliseconds(500));
}

}  // namespace
}  // namespace tsdsr::client

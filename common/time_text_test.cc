#include "common/time_text.h"

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

TEST(TimeTextTest, FormatsUtcWithAndWithoutMilliseconds) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(1796224707123), "2026-12-02T15:18:27.123Z");
  EXPECT_EQ(FormatUtc(1796224707123, /*millis=*/false), "2026-12-02T15:18:27Z");
}

TEST(TimeTextTest, NowIsAfterThisCodeWasWritten) { EXPECT_GT(UnixMillisNow(), 1796224707123 - 86'400'000); }

TEST(TimeTextTest, ParsesDurationsWithUnits) {
  EXPECT_EQ(*ParseDurationMillis("90"), 90'000);
  EXPECT_EQ(*ParseDurationMillis("90s"), 90'000);
  EXPECT_EQ(*ParseDurationMillis("250ms"), 250);
  EXPECT_EQ(*ParseDurationMillis("15m"), 900'000);
  EXPECT_EQ(*ParseDurationMillis("24h"), 86'400'000);
  EXPECT_EQ(*ParseDurationMillis("7d"), 604'800'000);
  EXPECT_EQ(*ParseDurationMillis("0"), 0);
}

TEST(TimeTextTest, RefusesWhatIsNotADuration) {
  for (const char* bad :
       {"", "s", "-5s", "1.5h", "10 s", "3w", "24H", "99999999999999999999", "9223372036854775807d"}) {
    auto parsed = ParseDurationMillis(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("ms, s, m, h or d"), std::string::npos);
  }
}

TEST(TimeTextTest, FormatsDurationsInTheirLargestExactUnit) {
  EXPECT_EQ(FormatDuration(86'400'000), "1d");
  EXPECT_EQ(FormatDuration(90'000), "90s");
  EXPECT_EQ(FormatDuration(1'500), "1500ms");
  EXPECT_EQ(FormatDuration(7'200'000), "2h");
  EXPECT_EQ(FormatDuration(0), "0s");
}

}  // namespace
}  // namespace tsdsr

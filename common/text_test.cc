#include "common/text.h"

#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

TEST(TextTest, LowersAsciiLettersOnly) {
  EXPECT_EQ(AsciiLower("Content-Type: Multipart/Form-Data"), "content-type: multipart/form-data");
  EXPECT_EQ(AsciiLower("\xC3\x89t\xC3\xA9 [@]"), "\xC3\x89t\xC3\xA9 [@]");  // UTF-8 and '@', '[' untouched
  EXPECT_EQ(AsciiLower('Z'), 'z');
  EXPECT_EQ(AsciiLower('['), '[');
}

TEST(TextTest, ComparesIgnoringCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Keep-Alive", "keep-alive"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("keep-alive", "keep-alive "));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 and 0x60 differ only in the bit case uses for letters
}

TEST(TextTest, TrimsSpacesAndTabsOnly) {
  EXPECT_EQ(TrimBlanks(" \t value \t"), "value");
  EXPECT_EQ(TrimBlanks("\r\nvalue\r\n"), "\r\nvalue\r\n");
  EXPECT_EQ(TrimBlanks("   "), "");
}

TEST(TextTest, JoinsNumbers) {
  EXPECT_EQ(JoinNumbers(std::vector<int>{2, 3, 4}), "2, 3, 4");
  EXPECT_EQ(JoinNumbers(std::set<int>{4, 2}), "2, 4");
  EXPECT_EQ(JoinNumbers(std::vector<int>{}), "");
}

}  // namespace
}  // namespace tsdsr

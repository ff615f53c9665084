#include "common/media_names.h"

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

TEST(MediaNamesTest, VideosByTheirExtensionInAnyCase) {
  EXPECT_TRUE(IsVideoFileName("clip.mp4"));
  EXPECT_TRUE(IsVideoFileName("/data/in/Holiday.MKV"));
  EXPECT_TRUE(IsVideoFileName("a.b.webm"));
  EXPECT_FALSE(IsVideoFileName("frame.png"));
  EXPECT_FALSE(IsVideoFileName("mp4"));
  EXPECT_FALSE(IsVideoFileName("folder.mp4/photo.jpg"));
  EXPECT_EQ(VideoContentType("x.mkv"), "video/x-matroska");
  EXPECT_EQ(VideoContentType("x.MOV"), "video/quicktime");
  EXPECT_EQ(VideoContentType("x.png"), "application/octet-stream");
  EXPECT_EQ(VideoExtensions().front(), ".mp4");
  EXPECT_EQ(VideoExtensions().size(), 9u);
}

}  // namespace
}  // namespace tsdsr

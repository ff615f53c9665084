#include "client/batch_plan.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/testing_client_fixture.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;
using testing::WriteBytes;
using Names = std::vector<std::string>;

TEST(BatchPlanTest, DefaultFilterTakesImageExtensionsInAnyCaseAndNoHiddenFiles) {
  FileFilter filter = MakeFileFilter("");
  EXPECT_TRUE(filter.ignore_case);
  for (const char* name : {"a.png", "B.PNG", "c.jpg", "d.JPEG", "e.webp", "f.bmp", "g.tif", "h.TIFF"}) {
    EXPECT_TRUE(MatchesFilter(filter, name)) << name;
  }
  for (const char* name : {"notes.txt", "png", "a.png.part", ".hidden.png", ".png", ""}) {
    EXPECT_FALSE(MatchesFilter(filter, name)) << name;
  }
}

TEST(BatchPlanTest, PatternIsACommaSeparatedListOfGlobs) {
  FileFilter filter = MakeFileFilter(" *.png ,shot_??.*,,");
  EXPECT_FALSE(filter.ignore_case);
  EXPECT_EQ(filter.globs, (Names{"*.png", "shot_??.*"}));
  EXPECT_TRUE(MatchesFilter(filter, "a.png"));
  EXPECT_TRUE(MatchesFilter(filter, "shot_01.jpg"));
  EXPECT_FALSE(MatchesFilter(filter, "shot_1.jpg"));
  EXPECT_FALSE(MatchesFilter(filter, "A.PNG")) << "a pattern given is matched as written";
  EXPECT_FALSE(MatchesFilter(filter, ".b.png"));
}

TEST(BatchPlanTest, OutputsTakeTheFormatsExtension) {
  EXPECT_EQ(AssignOutputNames({"a.jpg", "b.tiff", "c.v2.png", "d"}, ".png"),
            (Names{"a.png", "b.png", "c.v2.png", "d.png"}));
  EXPECT_EQ(AssignOutputNames({"sub/a.png"}, ".jpg"), (Names{"sub/a.jpg"}));
}

TEST(BatchPlanTest, CollidingInputsUseTheirWholeFileNameWhateverTheOrder) {
  Names inputs = {"a.jpg", "a.png", "b.png", "sub/a.png"};
  Names expected = {"a.jpg.png", "a.png.png", "b.png", "sub/a.png"};
  EXPECT_EQ(AssignOutputNames(inputs, ".png"), expected);
  std::reverse(inputs.begin(), inputs.end());
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(AssignOutputNames(inputs, ".png"), expected);
}

TEST(BatchPlanTest, ARenamedOutputThatMeetsAnotherNameIsResolvedToo) {
  // a.jpg and a.png collide on a.png; a.jpg's new name a.jpg.png is also a.jpg.png's plain name.
  Names outputs = AssignOutputNames({"a.jpg", "a.jpg.png", "a.png"}, ".png");
  EXPECT_EQ(outputs, (Names{"a.jpg.png", "a.jpg.png.png", "a.png.png"}));
  EXPECT_EQ(AssignOutputNames({"noext", "noext.png"}, ".png"), (Names{"noext.png", "noext.png.png"}));
}

TEST(BatchPlanTest, VideosGetTheContainersExtensionAndAreTakenByDefault) {
  const OutputExtensions extensions{".webp", ".mkv"};
  EXPECT_EQ(AssignOutputNames({"a.png", "clip.MP4", "sub/b.mov"}, extensions),
            (std::vector<std::string>{"a.webp", "clip.mkv", "sub/b.mkv"}));
  EXPECT_EQ(AssignOutputNames({"a.mp4", "a.mkv"}, extensions), (std::vector<std::string>{"a.mp4.mkv", "a.mkv.mkv"}));
  const FileFilter filter = MakeFileFilter("");
  EXPECT_TRUE(MatchesFilter(filter, "holiday.MKV"));
  EXPECT_TRUE(MatchesFilter(filter, "clip.mp4"));
  EXPECT_FALSE(MatchesFilter(filter, "notes.txt"));
}

TEST(BatchPlanTest, OutputNameAmongSiblingsForWatchMode) {
  EXPECT_EQ(OutputNameAmong("a.png", {"b.png", "c.jpg"}, ".webp"), "a.webp");
  EXPECT_EQ(OutputNameAmong("a.png", {"a.png", "a.jpg"}, ".png"), "a.png.png");
  EXPECT_EQ(OutputNameAmong("a.jpg", {"a.png"}, ".png"), "a.jpg.png");
}

class BatchListingTest : public testing::ClientTest {
 protected:
  void SetUp() override {
    ClientTest::SetUp();
    for (const char* name : {"b.png", "a.JPG", "notes.txt", ".hidden.png", "sub/c.webp", "sub/deeper/d.png",
                             ".git/e.png", "out/old.png"}) {
      WriteBytes(dir_ / "in" / name, "x");
    }
  }
};

TEST_F(BatchListingTest, ListsMatchingFilesSortedWithoutFoldersOrHiddenFiles) {
  Result<Names> files = ListMatchingFiles((dir_ / "in").string(), MakeFileFilter(""), false, "");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, (Names{"a.JPG", "b.png"}));
}

TEST_F(BatchListingTest, RecursiveSkipsHiddenFoldersAndTheOutputFolder) {
  std::string in = (dir_ / "in").string();
  std::string out = (dir_ / "in" / "out").string();
  Result<std::vector<PlannedFile>> plan = PlanBatch(in, out, MakeFileFilter(""), true, ".jpg");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<std::pair<std::string, std::string>> got;
  for (const PlannedFile& file : *plan) {
    got.emplace_back(fs::path(file.input).lexically_relative(in).string(),
                     fs::path(file.output).lexically_relative(out).string());
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{{"a.JPG", "a.jpg"},
                                                                   {"b.png", "b.jpg"},
                                                                   {"sub/c.webp", "sub/c.jpg"},
                                                                   {"sub/deeper/d.png", "sub/deeper/d.jpg"}}));
  EXPECT_EQ(plan->front().input, (fs::path(in) / "a.JPG").string()) << "inputs keep the folder as given";
}

TEST_F(BatchListingTest, AMissingFolderIsAnError) {
  Result<Names> files = ListMatchingFiles((dir_ / "nope").string(), MakeFileFilter(""), false, "");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().message(), "input folder '" + (dir_ / "nope").string() + "' not found");
  files = ListMatchingFiles((dir_ / "in" / "b.png").string(), MakeFileFilter(""), false, "");
  EXPECT_NE(files.status().message().find("is not a folder"), std::string::npos);
}

}  // namespace
}  // namespace tsdsr::client

#include "tools/quality_report.h"

#include <limits>

#include <gtest/gtest.h>

namespace tsdsr::tools {
namespace {

EvalRow Row(int scale, const std::string& model, double psnr_a, double psnr_b) {
  EvalRow row;
  row.scale = scale;
  row.model = model;
  row.seconds = 1.25;
  row.photos = {{"a", {psnr_a, 0.9, 0}}, {"b", {psnr_b, 0.8, 0}}};
  row.checks = {{"flat", {50, 0.99, -0.5}}};
  return row;
}

TEST(QualityReportTest, MeansAreOverThePhotographs) {
  const MeanQuality mean = MeanOf(Row(2, "bicubic", 30, 32).photos);
  EXPECT_DOUBLE_EQ(mean.psnr, 31);
  EXPECT_DOUBLE_EQ(mean.ssim, 0.85);
  EXPECT_DOUBLE_EQ(MeanOf({}).psnr, 0);
}

TEST(QualityReportTest, MarkdownHasATablePerScaleWithTheBestMeanInBold) {
  std::vector<EvalRow> rows = {Row(2, "bicubic", 30, 32), Row(2, "builtin:psnr-small", 31, 33),
                               Row(4, "bicubic", 25, 26)};
  rows[2].note = "cv::resize";
  const std::string md = MarkdownTables(rows);
  EXPECT_NE(md.find("### ×2"), std::string::npos);
  EXPECT_NE(md.find("### ×4"), std::string::npos);
  EXPECT_NE(md.find("| model | colour fix | a | b | mean | seconds |"), std::string::npos) << md;
  EXPECT_NE(md.find("| bicubic | none | 30.00 / 0.9000 | 32.00 / 0.8000 | 31.00 / 0.8500 | 1.2 |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| **32.00 / 0.8500** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| model | colour fix | flat | Y bias |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 50.00 / 0.9900 | -0.50 |"), std::string::npos) << md;
  EXPECT_NE(md.find("- bicubic: cv::resize"), std::string::npos) << md;
}

TEST(QualityReportTest, JsonHasEveryFigureAndNullForInfinity) {
  std::vector<EvalRow> rows = {Row(2, "bicubic", 30, std::numeric_limits<double>::infinity())};
  const nlohmann::json json = ToJson(rows);
  const nlohmann::json& row = json.at("results").at(0);
  EXPECT_EQ(row.at("model"), "bicubic");
  EXPECT_EQ(row.at("color_fix"), "none");
  EXPECT_EQ(row.at("scale"), 2);
  EXPECT_EQ(row.at("photos").at(0).at("psnr"), 30.0);
  EXPECT_TRUE(row.at("photos").at(1).at("psnr").is_null());
  EXPECT_EQ(row.at("checks").at(0).at("mean_y_difference"), -0.5);
}

}  // namespace
}  // namespace tsdsr::tools

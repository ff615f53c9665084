// The results of tools/eval-quality and their two renderings: Markdown tables for the README and JSON for
// programs. Free of LibTorch and of the models.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/quality_metrics.h"

namespace tsdsr::tools {

struct ImageScore {
  std::string image;  // e.g. "astronaut"
  Quality quality;
};

// One model with one colour fix at one scale, over every test image.
struct EvalRow {
  int scale = 2;
  std::string model;               // the --model spec, e.g. "builtin:psnr-small"
  std::string color_fix = "none";  // the --color-fix value
  double seconds = 0;              // wall time of its upscales
  std::vector<ImageScore> photos;  // the photographs: averaged into the mean
  std::vector<ImageScore> checks;  // flat and dark content: reported apart, not in the mean
  std::string note;                // how it ran when not through the worker's path; may be empty
};

struct MeanQuality {
  double psnr = 0;
  double ssim = 0;
};

// The plain means of PSNR (dB) and SSIM over `scores`; zeros for none.
MeanQuality MeanOf(const std::vector<ImageScore>& scores);

// For each scale in order of appearance: a "### ×S" heading, a table of the photographs (model, colour fix,
// PSNR / SSIM per image, their mean with the best mean PSNR in bold, seconds) and, when rows have checks, a
// table of the checks (PSNR / SSIM and the mean Y bias per image). Rows keep their order; notes follow as a list.
std::string MarkdownTables(const std::vector<EvalRow>& rows);

// {"results": [{"scale", "model", "color_fix", "seconds", "note", "mean": {"psnr", "ssim"},
//   "photos": [{"image", "psnr", "ssim", "mean_y_difference"}], "checks": [...]}]}. An infinite PSNR (identical
// images) is written as null.
nlohmann::json ToJson(const std::vector<EvalRow>& rows);

}  // namespace tsdsr::tools

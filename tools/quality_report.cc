#include "tools/quality_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace tsdsr::tools {
namespace {

std::string Fixed(double value, int decimals) {
  if (std::isinf(value)) return "inf";
  if (std::isnan(value)) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string Signed(double value) { return (value >= 0 ? "+" : "") + Fixed(value, 2); }

std::string Cell(const Quality& q) { return Fixed(q.psnr, 2) + " / " + Fixed(q.ssim, 4); }

std::string Header(const std::vector<std::string>& columns, const std::string& alignment_of_rest) {
  std::string line = "|";
  std::string rule = "|";
  for (size_t i = 0; i < columns.size(); ++i) {
    line += " " + columns[i] + " |";
    rule += i < 2 ? " --- |" : " " + alignment_of_rest + " |";
  }
  return line + "\n" + rule + "\n";
}

void PhotoTable(const std::vector<const EvalRow*>& rows, std::ostringstream& out) {
  double best = -1;
  for (const EvalRow* row : rows) best = std::max(best, MeanOf(row->photos).psnr);
  std::vector<std::string> columns = {"model", "colour fix"};
  for (const ImageScore& s : rows.front()->photos) columns.push_back(s.image);
  columns.insert(columns.end(), {"mean", "seconds"});
  out << Header(columns, "---:");
  for (const EvalRow* row : rows) {
    out << "| " << row->model << " | " << row->color_fix << " |";
    for (const ImageScore& s : row->photos) out << " " << Cell(s.quality) << " |";
    const MeanQuality mean = MeanOf(row->photos);
    const std::string cell = Fixed(mean.psnr, 2) + " / " + Fixed(mean.ssim, 4);
    out << " " << (mean.psnr == best ? "**" + cell + "**" : cell) << " | " << Fixed(row->seconds, 1) << " |\n";
  }
}

void CheckTable(const std::vector<const EvalRow*>& rows, std::ostringstream& out) {
  std::vector<std::string> columns = {"model", "colour fix"};
  for (const ImageScore& s : rows.front()->checks) columns.insert(columns.end(), {s.image, "Y bias"});
  out << Header(columns, "---:");
  for (const EvalRow* row : rows) {
    out << "| " << row->model << " | " << row->color_fix << " |";
    for (const ImageScore& s : row->checks)
      out << " " << Cell(s.quality) << " | " << Signed(s.quality.mean_difference) << " |";
    out << "\n";
  }
}

nlohmann::json ScoresJson(const std::vector<ImageScore>& scores) {
  nlohmann::json list = nlohmann::json::array();
  for (const ImageScore& s : scores) {
    list.push_back({{"image", s.image},
                    {"psnr", std::isfinite(s.quality.psnr) ? nlohmann::json(s.quality.psnr) : nlohmann::json()},
                    {"ssim", s.quality.ssim},
                    {"mean_y_difference", s.quality.mean_difference}});
  }
  return list;
}

}  // namespace

MeanQuality MeanOf(const std::vector<ImageScore>& scores) {
  MeanQuality mean;
  if (scores.empty()) return mean;
  for (const ImageScore& s : scores) {
    mean.psnr += s.quality.psnr;
    mean.ssim += s.quality.ssim;
  }
  mean.psnr /= static_cast<double>(scores.size());
  mean.ssim /= static_cast<double>(scores.size());
  return mean;
}

std::string MarkdownTables(const std::vector<EvalRow>& rows) {
  std::vector<int> scales;
  std::map<int, std::vector<const EvalRow*>> by_scale;
  for (const EvalRow& row : rows) {
    if (by_scale[row.scale].empty()) scales.push_back(row.scale);
    by_scale[row.scale].push_back(&row);
  }
  std::ostringstream out;
  for (int scale : scales) {
    const std::vector<const EvalRow*>& group = by_scale[scale];
    out << "### ×" << scale << "\n\nPSNR (dB) / SSIM on Y, border of " << scale << " cropped:\n\n";
    PhotoTable(group, out);
    if (!group.front()->checks.empty()) {
      out << "\nFlat and dark content (Y bias: mean Y of output − original, grey levels):\n\n";
      CheckTable(group, out);
    }
    bool notes = false;
    for (const EvalRow* row : group) {
      if (row->note.empty()) continue;
      out << (notes ? "" : "\n") << "- " << row->model << ": " << row->note << "\n";
      notes = true;
    }
    out << "\n";
  }
  return out.str();
}

nlohmann::json ToJson(const std::vector<EvalRow>& rows) {
  nlohmann::json results = nlohmann::json::array();
  for (const EvalRow& row : rows) {
    const MeanQuality mean = MeanOf(row.photos);
    results.push_back({{"scale", row.scale},
                       {"model", row.model},
                       {"color_fix", row.color_fix},
                       {"seconds", row.seconds},
                       {"note", row.note},
                       {"mean", {{"psnr", mean.psnr}, {"ssim", mean.ssim}}},
                       {"photos", ScoresJson(row.photos)},
                       {"checks", ScoresJson(row.checks)}});
  }
  return {{"results", results}};
}

}  // namespace tsdsr::tools

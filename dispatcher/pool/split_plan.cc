#include "dispatcher/pool/split_plan.h"

#include <algorithm>
#include <map>
#include <string>

#include <opencv2/core.hpp>

namespace tsdsr::dispatcher {
namespace {

// The worker's split margin at `scale`, 0 when it has none.
int MarginAt(const proto::WorkerDescription& d, int scale) {
  for (size_t i = 0; i < d.scales.size() && i < d.split_margins.size(); ++i) {
    if (d.scales[i] == scale) return d.split_margins[i];
  }
  return 0;
}

}  // namespace

std::optional<SplitTarget> FindSplitTarget(const PoolSnapshot& pool, int scale) {
  std::map<std::string, SplitTarget> by_model;
  for (const WorkerView& w : pool.workers) {
    const int margin = MarginAt(w.description, scale);
    if (w.description.status != "ok" || w.in_flight > 0 || margin <= 0) continue;
    SplitTarget& target = by_model[w.description.model_name];
    ++target.workers;
    target.margin = std::max(target.margin, margin);
  }
  std::optional<SplitTarget> best;
  for (const auto& [model, target] : by_model) {
    if (target.workers >= 2 && (!best || target.workers > best->workers)) best = target;
  }
  return best;
}

Result<model::TilePlan> PlanPieces(int width, int height, int workers, int margin, int scale) {
  const int overlap = model::OverlapForContext(margin);
  auto fits = [&](int size, int n) { return n == 1 || model::TileExtent(size, n, overlap) >= 2 * overlap; };
  int best_nx = 1, best_ny = 1;
  double best_aspect = 0;
  for (int nx = 1; nx <= std::max(workers, 1) && fits(width, nx); ++nx) {
    int ny = std::max(workers, 1) / nx;
    while (ny > 1 && !fits(height, ny)) --ny;
    const double w = model::TileExtent(width, nx, overlap), h = model::TileExtent(height, ny, overlap);
    const double aspect = std::max(w / h, h / w);
    const bool more = nx * ny > best_nx * best_ny;
    if (more || (nx * ny == best_nx * best_ny && aspect < best_aspect)) best_nx = nx, best_ny = ny, best_aspect = aspect;
  }
  const bool split = best_nx * best_ny > 1;
  const model::TileGrid grid{model::TileExtent(width, best_nx, overlap), model::TileExtent(height, best_ny, overlap),
                             split ? overlap : 0, split ? margin : 0};
  return model::TilePlan::Create(width, height, grid, scale);
}

cv::Mat PieceOf(const cv::Mat& image, const model::TilePlan& plan, int k) {
  const model::TileRect t = plan.Tile(k);
  return image(cv::Rect(t.x, t.y, t.width, t.height));
}

namespace {

// Adds row `y` of the output's pieces in tile row `r`, weighted, into `sum` (3 floats a pixel).
void AddRow(const model::TilePlan& plan, const std::vector<cv::Mat>& outputs, int r, int y, std::vector<float>& sum) {
  const int s = plan.scale();
  const model::TileAxis& ax = plan.x();
  const int py = y - plan.y().starts[r] * s;
  if (py < 0 || py >= plan.tile_height() * s) return;
  const float wy = plan.y().weights[r][py];
  if (wy == 0.0f) return;
  for (int c = 0; c < ax.count(); ++c) {
    const uchar* src = outputs[static_cast<size_t>(r * ax.count() + c)].ptr<uchar>(py);
    float* dst = sum.data() + static_cast<size_t>(ax.starts[c]) * s * 3;
    const std::vector<float>& wx = ax.weights[c];
    for (size_t p = 0; p < wx.size(); ++p) {
      if (wx[p] == 0.0f) continue;
      const float w = wy * wx[p];
      for (int ch = 0; ch < 3; ++ch) dst[p * 3 + ch] += w * src[p * 3 + ch];
    }
  }
}

}  // namespace

Result<cv::Mat> BlendPieces(const model::TilePlan& plan, const std::vector<cv::Mat>& outputs) {
  const int s = plan.scale();
  const int rows = plan.tile_height() * s;
  const int cols = plan.tile_width() * s;
  if (outputs.size() != static_cast<size_t>(plan.count())) {
    return Status::InvalidArgument("expected " + std::to_string(plan.count()) + " piece outputs, got " +
                                   std::to_string(outputs.size()));
  }
  for (const cv::Mat& o : outputs) {
    if (o.type() != CV_8UC3 || o.rows != rows || o.cols != cols) {
      return Status::InvalidArgument("a piece's output is " + std::to_string(o.cols) + "x" + std::to_string(o.rows) +
                                     ", expected " + std::to_string(cols) + "x" + std::to_string(rows));
    }
  }
  cv::Mat out(plan.y().size * s, plan.x().size * s, CV_8UC3);
  std::vector<float> sum(static_cast<size_t>(out.cols) * 3);
  for (int y = 0; y < out.rows; ++y) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (int r = 0; r < plan.y().count(); ++r) AddRow(plan, outputs, r, y, sum);
    uchar* dst = out.ptr<uchar>(y);
    for (size_t i = 0; i < sum.size(); ++i) dst[i] = cv::saturate_cast<uchar>(sum[i]);
  }
  return out;
}

}  // namespace tsdsr::dispatcher

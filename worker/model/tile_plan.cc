#include "worker/model/tile_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace tsdsr::model {
namespace {

constexpr double kPi = 3.14159265358979323846;

// LR offsets of the tiles of one axis: n tiles spread evenly (floor of the exact positions). Consecutive
// starts differ by floor or ceil of (size − tile)/(n − 1) ≤ process_size − overlap: overlaps are ≥ overlap.
std::vector<int> TileStarts(int size, int process_size, int overlap) {
  if (size <= process_size) return {0};
  const int step = process_size - overlap;
  const int n = (size - overlap + step - 1) / step;
  const std::int64_t span = size - process_size;
  std::vector<int> starts(n);
  for (int k = 0; k < n; ++k) starts[k] = static_cast<int>(span * k / (n - 1));
  return starts;
}

// The cross-fade bands of one axis, in output pixel coordinates: band k (1 ≤ k < n) is centred on cut[k]
// with half-width half[k]; entries 0 are unused.
struct Bands {
  std::vector<double> cut;
  std::vector<double> half;
};

Bands MakeBands(const TileAxis& axis) {
  const int n = axis.count();
  const double s = axis.scale;
  Bands bands{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (int k = 1; k < n; ++k) bands.cut[k] = s * (axis.starts[k] + axis.starts[k - 1] + axis.tile) / 2.0;
  for (int k = 1; k < n; ++k) {
    double h = axis.Overlap(k) * s / 4.0;
    if (k > 1) h = std::min(h, (bands.cut[k] - bands.cut[k - 1]) / 2.0);
    if (k + 1 < n) h = std::min(h, (bands.cut[k + 1] - bands.cut[k]) / 2.0);
    bands.half[k] = h;
  }
  return bands;
}

// rise_k at output coordinate `centre`: 1 for k == 0, 0 for k == n, else a raised-cosine ramp over band k.
double Rise(const Bands& bands, int k, double centre) {
  const int n = static_cast<int>(bands.cut.size());
  if (k == 0) return 1.0;
  if (k == n) return 0.0;
  const double h = bands.half[k];
  if (h <= 0.0) return centre >= bands.cut[k] ? 1.0 : 0.0;
  const double t = (centre - (bands.cut[k] - h)) / (2.0 * h);
  if (t <= 0.0) return 0.0;
  if (t >= 1.0) return 1.0;
  return 0.5 - 0.5 * std::cos(kPi * t);
}

}  // namespace

int DefaultOverlap(int process_size) { return std::min(std::max(8, process_size / 8), process_size / 2); }

Result<TileAxis> PlanAxis(int size, int process_size, int overlap, int scale) {
  if (size < 1) return Status::InvalidArgument("image size must be at least 1, got " + std::to_string(size));
  if (process_size < 1) {
    return Status::InvalidArgument("process_size must be at least 1, got " + std::to_string(process_size));
  }
  if (scale < 1) return Status::InvalidArgument("scale must be at least 1, got " + std::to_string(scale));
  if (overlap < 0 || overlap >= process_size) {
    return Status::InvalidArgument("tile overlap must be in [0, process_size) = [0, " +
                                   std::to_string(process_size) + "), got " + std::to_string(overlap));
  }
  TileAxis axis;
  axis.size = size;
  axis.tile = std::min(process_size, size);
  axis.scale = scale;
  axis.starts = TileStarts(size, process_size, overlap);
  const Bands bands = MakeBands(axis);
  const int out_tile = axis.tile * scale;
  axis.weights.assign(axis.count(), std::vector<float>(out_tile));
  for (int k = 0; k < axis.count(); ++k) {
    for (int p = 0; p < out_tile; ++p) {
      const double centre = static_cast<double>(axis.starts[k]) * scale + p + 0.5;
      const double w = Rise(bands, k, centre) * (1.0 - Rise(bands, k + 1, centre));
      axis.weights[k][p] = static_cast<float>(w);
    }
  }
  return axis;
}

Result<TilePlan> TilePlan::Create(int width, int height, int process_size, int overlap, int scale) {
  auto x = PlanAxis(width, process_size, overlap, scale);
  if (!x.ok()) return Status::InvalidArgument("width: " + x.status().message());
  auto y = PlanAxis(height, process_size, overlap, scale);
  if (!y.ok()) return Status::InvalidArgument("height: " + y.status().message());
  return TilePlan(std::move(x).value(), std::move(y).value());
}

TileRect TilePlan::Tile(int index) const {
  TileRect rect;
  rect.col = index % x_.count();
  rect.row = index / x_.count();
  rect.x = x_.starts[rect.col];
  rect.y = y_.starts[rect.row];
  rect.width = x_.tile;
  rect.height = y_.tile;
  return rect;
}

}  // namespace tsdsr::model

#include "worker/model/tile_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace tsdsr::model {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Tiles of an axis of `size` with tiles of `tile` overlapping by `overlap` (TileStarts' count).
int TileCount(int size, int tile, int overlap) {
  if (size <= tile) return 1;
  const int step = tile - overlap;
  return (size - overlap + step - 1) / step;
}

// LR offsets of the tiles of one axis: n tiles spread evenly (floor of the exact positions). Consecutive
// starts differ by floor or ceil of (size − tile)/(n − 1) ≤ process_size − overlap: overlaps are ≥ overlap.
std::vector<int> TileStarts(int size, int process_size, int overlap) {
  if (size <= process_size) return {0};
  const int n = TileCount(size, process_size, overlap);
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

Bands MakeBands(const TileAxis& axis, int guard) {
  const int n = axis.count();
  const double s = axis.scale;
  Bands bands{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  for (int k = 1; k < n; ++k) bands.cut[k] = s * (axis.starts[k] + axis.starts[k - 1] + axis.tile) / 2.0;
  for (int k = 1; k < n; ++k) {
    double h = guard < 0 ? axis.Overlap(k) * s / 4.0 : std::max(0.0, (axis.Overlap(k) / 2.0 - guard) * s);
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

int OverlapForContext(int context) { return 2 * context + 2 * std::max(2, context / 4); }

int TileExtent(int size, int count, int overlap) {
  if (count <= 1) return size;
  return static_cast<int>((std::int64_t{size} + std::int64_t{count - 1} * overlap + count - 1) / count);
}

int DefaultOverlap(int process_size) { return std::min(std::max(8, process_size / 8), process_size / 2); }

Result<TileAxis> PlanAxis(int size, int process_size, int overlap, int scale, int guard) {
  if (size < 1) return Status::InvalidArgument("image size must be at least 1, got " + std::to_string(size));
  if (process_size < 1) {
    return Status::InvalidArgument("process_size must be at least 1, got " + std::to_string(process_size));
  }
  if (scale < 1) return Status::InvalidArgument("scale must be at least 1, got " + std::to_string(scale));
  if (overlap < 0 || overlap >= process_size) {
    return Status::InvalidArgument("tile overlap must be in [0, process_size) = [0, " +
                                   std::to_string(process_size) + "), got " + std::to_string(overlap));
  }
  if (2 * guard > overlap) {
    return Status::InvalidArgument("tile guard must be at most half the overlap (" + std::to_string(overlap) +
                                   "), got " + std::to_string(guard));
  }
  TileAxis axis;
  axis.size = size;
  axis.tile = std::min(process_size, size);
  axis.scale = scale;
  axis.starts = TileStarts(size, process_size, overlap);
  const Bands bands = MakeBands(axis, guard);
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

Result<TilePlan> TilePlan::Create(int width, int height, const TileGrid& grid, int scale) {
  auto x = PlanAxis(width, grid.tile_width, grid.overlap, scale, grid.guard);
  if (!x.ok()) return Status::InvalidArgument("width: " + x.status().message());
  auto y = PlanAxis(height, grid.tile_height, grid.overlap, scale, grid.guard);
  if (!y.ok()) return Status::InvalidArgument("height: " + y.status().message());
  return TilePlan(std::move(x).value(), std::move(y).value());
}

std::optional<TileGrid> ChooseTiles(int width, int height, int context, std::int64_t max_tile_pixels) {
  if (std::int64_t{width} * height <= max_tile_pixels) return TileGrid{width, height, 0, 0};
  const int overlap = OverlapForContext(context);
  const int smallest = 2 * overlap;
  std::optional<TileGrid> best;
  double best_cost = 0;
  for (int nx = 1; nx == 1 || TileExtent(width, nx, overlap) >= smallest; ++nx) {
    for (int ny = 1; ny == 1 || TileExtent(height, ny, overlap) >= smallest; ++ny) {
      const TileGrid grid{TileExtent(width, nx, overlap), TileExtent(height, ny, overlap), overlap, context};
      if (std::int64_t{grid.tile_width} * grid.tile_height > max_tile_pixels) continue;
      const double cost = TiledPixelRatio(width, height, grid);
      if (!best || cost < best_cost) best = grid, best_cost = cost;
      break;  // more rows of this width only cost more
    }
  }
  return best;
}

double TiledPixelRatio(int width, int height, const TileGrid& grid) {
  const int tile_w = std::min(grid.tile_width, width);
  const int tile_h = std::min(grid.tile_height, height);
  const double computed = double(TileCount(width, tile_w, grid.overlap)) * tile_w *
                          double(TileCount(height, tile_h, grid.overlap)) * tile_h;
  return computed / (double(width) * height);
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

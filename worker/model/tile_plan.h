// Geometry and blend weights of the shared tiler (DESIGN.md, "The worker's model path"). No LibTorch here: the
// dispatcher blends the bands of a large image with the same weights (library tsdsr_tile_plan).
//
// An image of W×H low-resolution (LR) pixels is cut into tiles of P×P (P = process_size; an axis not longer
// than P gets one tile of the whole axis, so every tile of an image has one shape). Per axis there are
// n = ceil((size − O) / (P − O)) tiles, spread evenly so that the first starts at 0, the last ends at the border
// and neighbours overlap by at least O pixels.
//
// Weights live in OUTPUT pixels (LR × scale) and form an exact partition of unity. At each boundary k between
// tiles k−1 and k there is a cut point c_k at the middle of their overlap and a cross-fade band of half-width
// h_k = min(overlap_k·s/4, half the distance to the neighbouring cut points). With rise_k a raised-cosine ramp
// from 0 (before c_k − h_k) to 1 (after c_k + h_k), rise_0 ≡ 1 and rise_n ≡ 0, tile k weighs
// rise_k·(1 − rise_{k+1}), evaluated at pixel centres. Bands never overlap, so the weights of a pixel sum to 1,
// image borders get weight 1, and a tile contributes nothing to pixels whose centre lies within
// overlap·s/4 output pixels of one of its interior edges (where a model's border effects live). With an explicit
// guard g (LR pixels) the band is instead h_k = (overlap_k/2 − g)·s: a tile is silent within g·s output pixels of
// its interior edges, and the cross-fade takes the rest of the overlap.
//
// Networks whose output does not depend on where the tiles are (convolutions: beyond their receptive field the
// input does not matter) can take tiles of any shape: ChooseTiles picks the fewest pixels to compute under a
// memory bound.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tsdsr::model {

// The overlap that gives a guard of `context` and a cross-fade of max(2, context/4) on each side of the cut.
int OverlapForContext(int context);

// The shortest tile that covers `size` pixels in `count` tiles overlapping by at least `overlap`.
int TileExtent(int size, int count, int overlap);

// The overlap used when none is configured: max(8, P/8), capped at P/2 so tiny test tiles still advance.
int DefaultOverlap(int process_size);

// The tiling of one axis.
struct TileAxis {
  int size = 0;             // image extent in LR pixels
  int tile = 0;             // tile extent in LR pixels: min(process_size, size)
  int scale = 1;            // output pixels per LR pixel
  std::vector<int> starts;  // LR offset of each tile, strictly ascending; front() == 0, back() == size − tile
  // weights[k][p]: weight of tile k at its output pixel p (0 ≤ p < tile·scale); see the file comment.
  std::vector<std::vector<float>> weights;

  int count() const { return static_cast<int>(starts.size()); }
  // LR pixels shared by tiles k−1 and k (1 ≤ k < count()).
  int Overlap(int k) const { return starts[k - 1] + tile - starts[k]; }
};

// Plans one axis. InvalidArgument unless size ≥ 1, process_size ≥ 1, scale ≥ 1, 0 ≤ overlap < process_size and
// guard ≤ overlap / 2 (guard < 0: a quarter of each overlap, see the file comment).
Result<TileAxis> PlanAxis(int size, int process_size, int overlap, int scale, int guard = -1);

// How an image is cut: tiles of tile_width × tile_height LR pixels (an axis not longer gets one tile of the whole
// axis), neighbours sharing at least `overlap`, silent within `guard` of their inner edges (−1: overlap / 4).
struct TileGrid {
  int tile_width = 128;
  int tile_height = 128;
  int overlap = 16;
  int guard = -1;
  bool operator==(const TileGrid& o) const {
    return tile_width == o.tile_width && tile_height == o.tile_height && overlap == o.overlap && guard == o.guard;
  }
};

// The grid with the fewest LR pixels to compute for a width×height image whose network needs `context` LR
// pixels around every output pixel (guard = context, overlap = 2·context + a cross-fade of max(2, context/4) on
// each side of the cut), every tile at most `max_tile_pixels`; the whole image as one tile when it fits.
// nullopt when not even a tile of 2·overlap square fits (the caller falls back to process_size tiles).
std::optional<TileGrid> ChooseTiles(int width, int height, int context, std::int64_t max_tile_pixels);

// LR pixels a grid computes for a width×height image, over the image's: 1 for one tile, more with overlaps.
double TiledPixelRatio(int width, int height, const TileGrid& grid);

// One tile of a plan, in LR pixels.
struct TileRect {
  int col = 0;
  int row = 0;
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// The tiling of a whole image: the product of its two axes, tiles numbered row-major.
class TilePlan {
 public:
  // Plans a width×height image. InvalidArgument as PlanAxis, naming the offending value.
  static Result<TilePlan> Create(int width, int height, const TileGrid& grid, int scale);
  // Square process_size tiles with the default guard.
  static Result<TilePlan> Create(int width, int height, int process_size, int overlap, int scale) {
    return Create(width, height, TileGrid{process_size, process_size, overlap, -1}, scale);
  }

  int count() const { return x_.count() * y_.count(); }
  int tile_width() const { return x_.tile; }
  int tile_height() const { return y_.tile; }
  int scale() const { return x_.scale; }
  // Tile `index` (0 ≤ index < count()), row-major.
  TileRect Tile(int index) const;
  const TileAxis& x() const { return x_; }
  const TileAxis& y() const { return y_; }

 private:
  TilePlan(TileAxis x, TileAxis y) : x_(std::move(x)), y_(std::move(y)) {}

  TileAxis x_;
  TileAxis y_;
};

}  // namespace tsdsr::model

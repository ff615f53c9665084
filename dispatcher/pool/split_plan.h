// How the image splitter cuts one large image over several idle workers and puts it back together: which workers
// can share it, where the pieces are, and their blend (the tiler's weights, worker/model/tile_plan.h). Pure
// functions over OpenCV images and the pool snapshot.
#pragma once

#include <optional>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/status.h"
#include "dispatcher/status/pool_snapshot.h"
#include "worker/model/tile_plan.h"

namespace tsdsr::dispatcher {

// Idle workers that can take the pieces of one image at `scale`: the most of them that run the same model and
// announce a split margin (> 0) for that scale, with the largest of their margins.
struct SplitTarget {
  int workers = 0;
  int margin = 0;  // LR pixels
};

// Workers count as idle when ready with nothing in flight. nullopt when fewer than two qualify.
std::optional<SplitTarget> FindSplitTarget(const PoolSnapshot& pool, int scale);

// The pieces of a width×height image for up to `workers` workers: a grid of nx × ny ≤ workers pieces (as many as
// fit, then the squarest, so a tiled model computes few more tiles than for the whole image), overlapping by
// OverlapForContext(margin) and silent within `margin` pixels of their inner edges, each side at least twice the
// overlap. count() may be fewer than `workers`, and is 1 for an image too small to split.
Result<model::TilePlan> PlanPieces(int width, int height, int workers, int margin, int scale);

// Input pixels of piece `k`.
cv::Mat PieceOf(const cv::Mat& image, const model::TilePlan& plan, int k);

// The whole output from the pieces' outputs (8-bit BGR, one per piece, tile size × scale each): every pixel the
// weighted sum of the pieces that cover it, rounded. InvalidArgument for outputs of the wrong number or shape.
Result<cv::Mat> BlendPieces(const model::TilePlan& plan, const std::vector<cv::Mat>& outputs);

}  // namespace tsdsr::dispatcher

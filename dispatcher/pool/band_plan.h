// How the band splitter cuts one large image over several idle workers and puts it back together: which workers
// can share it, where the bands are, and their blend (the tiler's weights, worker/model/tile_plan.h). Pure
// functions over OpenCV images and the pool snapshot.
#pragma once

#include <optional>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "common/status.h"
#include "dispatcher/status/pool_snapshot.h"
#include "worker/model/tile_plan.h"

namespace tsdsr::dispatcher {

// Idle workers that can take the bands of one image at `scale`: the most of them that run the same model and
// announce a split margin (> 0) for that scale, with the largest of their margins.
struct SplitTarget {
  int workers = 0;
  int margin = 0;  // LR pixels
};

// Workers count as idle when ready with nothing in flight. nullopt when fewer than two qualify.
std::optional<SplitTarget> FindSplitTarget(const PoolSnapshot& pool, int scale);

// Horizontal bands of a `height`-row image for up to `workers` workers, overlapping by OverlapForContext(margin)
// and silent within `margin` rows of their inner edges, each at least twice the overlap: count() may be fewer
// than `workers`, and is 1 for an image too short to split.
Result<model::TileAxis> PlanBands(int height, int workers, int margin, int scale);

// Input rows of band `k`: [starts[k], starts[k] + tile).
cv::Mat BandOf(const cv::Mat& image, const model::TileAxis& bands, int k);

// The whole output from the bands' outputs (8-bit BGR, one per band, tile·scale rows each, equal widths):
// every row the weighted sum of the bands that cover it, rounded. InvalidArgument for outputs of the wrong shape.
Result<cv::Mat> BlendBands(const model::TileAxis& bands, const std::vector<cv::Mat>& outputs);

}  // namespace tsdsr::dispatcher

#include "dispatcher/pool/band_plan.h"

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

Result<model::TileAxis> PlanBands(int height, int workers, int margin, int scale) {
  const int overlap = model::OverlapForContext(margin);
  int count = std::max(workers, 1);
  while (count > 1 && model::TileExtent(height, count, overlap) < 2 * overlap) --count;
  const int tile = model::TileExtent(height, count, overlap);
  return model::PlanAxis(height, tile, count > 1 ? overlap : 0, scale, count > 1 ? margin : 0);
}

cv::Mat BandOf(const cv::Mat& image, const model::TileAxis& bands, int k) {
  return image.rowRange(bands.starts[k], bands.starts[k] + bands.tile);
}

Result<cv::Mat> BlendBands(const model::TileAxis& bands, const std::vector<cv::Mat>& outputs) {
  const int s = bands.scale;
  const int rows = bands.tile * s;
  if (outputs.size() != static_cast<size_t>(bands.count()) || outputs.empty()) {
    return Status::InvalidArgument("expected " + std::to_string(bands.count()) + " band outputs");
  }
  for (const cv::Mat& o : outputs) {
    if (o.type() != CV_8UC3 || o.rows != rows || o.cols != outputs.front().cols) {
      return Status::InvalidArgument("a band's output is " + std::to_string(o.cols) + "x" + std::to_string(o.rows) +
                                     ", expected " + std::to_string(outputs.front().cols) + "x" + std::to_string(rows));
    }
  }
  cv::Mat out(bands.size * s, outputs.front().cols, CV_8UC3);
  cv::Mat sum(1, out.cols, CV_32FC3);
  cv::Mat row;
  for (int y = 0; y < out.rows; ++y) {
    sum.setTo(cv::Scalar::all(0));
    bool copied = false;
    for (int k = 0; k < bands.count() && !copied; ++k) {
      const int p = y - bands.starts[k] * s;
      if (p < 0 || p >= rows || bands.weights[k][p] == 0.0f) continue;
      const float w = bands.weights[k][p];
      if (w == 1.0f) {
        outputs[k].row(p).copyTo(out.row(y));
        copied = true;
      } else {
        outputs[k].row(p).convertTo(row, CV_32FC3);
        cv::scaleAdd(row, w, sum, sum);
      }
    }
    if (!copied) {
      cv::Mat target = out.row(y);
      sum.convertTo(target, CV_8UC3);
    }
  }
  return out;
}

}  // namespace tsdsr::dispatcher

#include "worker/model/multi_scale_model.h"

#include <algorithm>
#include <set>
#include <utility>

#include <c10/util/Exception.h>

namespace tsdsr::model {

Result<std::unique_ptr<MultiScaleModel>> MultiScaleModel::Create(std::vector<std::unique_ptr<TileModel>> models) {
  if (models.size() < 2) return Status::InvalidArgument("a multi-scale model needs at least two models");
  std::set<int> seen;
  for (const auto& model : models) {
    if (!model) return Status::InvalidArgument("a multi-scale model was given a null model");
    for (int scale : model->scales()) {
      if (!seen.insert(scale).second) {
        return Status::InvalidArgument("two models offer upscale " + std::to_string(scale) + " (" + model->name() +
                                       " is one)");
      }
    }
    if (model->device() != models.front()->device() || model->dtype() != models.front()->dtype()) {
      return Status::InvalidArgument(model->name() + " runs on another device or dtype than " +
                                     models.front()->name());
    }
  }
  return std::unique_ptr<MultiScaleModel>(new MultiScaleModel(std::move(models)));
}

MultiScaleModel::MultiScaleModel(std::vector<std::unique_ptr<TileModel>> models) : models_(std::move(models)) {
  std::sort(models_.begin(), models_.end(),
            [](const auto& a, const auto& b) { return a->scales().front() < b->scales().front(); });
  for (const auto& model : models_) {
    scales_.insert(scales_.end(), model->scales().begin(), model->scales().end());
    name_ += (name_.empty() ? "" : "+") + model->name();
  }
  std::sort(scales_.begin(), scales_.end());
}

TileFootprint MultiScaleModel::footprint(int scale) const {
  for (const auto& model : models_) {
    const std::vector<int>& offered = model->scales();
    if (std::find(offered.begin(), offered.end(), scale) != offered.end()) return model->footprint(scale);
  }
  return {};
}

at::Tensor MultiScaleModel::Forward(const at::Tensor& batch, int scale) {
  for (const auto& model : models_) {
    const std::vector<int>& offered = model->scales();
    if (std::find(offered.begin(), offered.end(), scale) != offered.end()) return model->Forward(batch, scale);
  }
  TORCH_CHECK(false, name_, " does not upscale by ", scale);
}

}  // namespace tsdsr::model

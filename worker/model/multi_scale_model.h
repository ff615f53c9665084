// MultiScaleModel: several TileModels behind one, each serving its own scales ("builtin:best" serves psnr-small
// at ×2 and thick-x4 at ×4). A request's scale picks the network.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/model/tile_model.h"

namespace tsdsr::model {

class MultiScaleModel : public TileModel {
 public:
  // Takes ownership of `models`. InvalidArgument for fewer than two models, a null one, two offering the same
  // scale, or models on different devices or dtypes (the caller converts tiles once, for all of them).
  static Result<std::unique_ptr<MultiScaleModel>> Create(std::vector<std::unique_ptr<TileModel>> models);

  // Forward of the model that offers `scale`; throws c10::Error for a scale none offers. Not thread-safe.
  at::Tensor Forward(const at::Tensor& batch, int scale) override;

  // Every model's scales, ascending.
  const std::vector<int>& scales() const override { return scales_; }
  // The models' names joined by '+', in scale order: "psnr-small+thick-x4".
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return models_.front()->dtype(); }
  c10::Device device() const override { return models_.front()->device(); }
  // The footprint of the model that offers `scale`; none for a scale none offers.
  TileFootprint footprint(int scale) const override;

 private:
  explicit MultiScaleModel(std::vector<std::unique_ptr<TileModel>> models);

  std::vector<std::unique_ptr<TileModel>> models_;  // by their smallest scale, ascending
  std::vector<int> scales_;
  std::string name_;
};

}  // namespace tsdsr::model

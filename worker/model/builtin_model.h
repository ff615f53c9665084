// BuiltinModel ("builtin:NAME"): a pretrained TensorFlow.js super-resolution network from UpscalerJS's npm
// packages (builtin_catalog.h), loaded with LoadTfjsModel and run by TfjsGraph as a TileModel.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/model/builtin_catalog.h"
#include "worker/model/tfjs_graph.h"
#include "worker/model/tile_model.h"

namespace tsdsr::model {

class BuiltinModel : public TileModel {
 public:
  // Loads model `name` from `models_dir` (see ResolveModelsDir) with weights in `dtype` on `device`, and checks
  // it upscales by its catalogued scale. Errors: InvalidArgument for an unknown name (listing the names);
  // NotFound, saying to run scripts/fetch-models or pass --models-dir, when its files are absent; the loader's
  // InvalidArgument (naming file, layer or tensor) for a damaged or unsupported model.
  static Result<std::unique_ptr<BuiltinModel>> Create(std::string_view name, const std::string& models_dir,
                                                      c10::Device device, c10::ScalarType dtype);

  // Scales the [0, 1] batch to the network's pixel range, runs the graph and scales back: (N, 3, h, w) →
  // (N, 3, h·s, w·s), any h, w ≥ 1. Throws c10::Error for another scale or shape. Not thread-safe (TileModel).
  at::Tensor Forward(const at::Tensor& batch, int scale) override;

  const std::vector<int>& scales() const override { return scales_; }
  // The catalogue name, e.g. "psnr-small".
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return dtype_; }
  c10::Device device() const override { return device_; }
  // The catalogue's context, and the graph's peak values at the dtype's size, doubled for the convolutions'
  // own buffers.
  TileFootprint footprint(int scale) const override;

  const BuiltinModelInfo& info() const { return info_; }
  // The network itself, fed and returning values in info().pixel_range (for tests and benchmarks).
  const TfjsGraph& graph() const { return *graph_; }

 private:
  BuiltinModel(BuiltinModelInfo info, std::unique_ptr<TfjsGraph> graph, c10::Device device, c10::ScalarType dtype);

  BuiltinModelInfo info_;
  std::unique_ptr<TfjsGraph> graph_;
  std::string name_;
  std::vector<int> scales_;
  c10::Device device_;
  c10::ScalarType dtype_;
};

// The model of a "builtin:ARG" spec (ExpandBuiltinSpec): one BuiltinModel, or a MultiScaleModel of several.
// Errors as ExpandBuiltinSpec and BuiltinModel::Create.
Result<std::unique_ptr<TileModel>> CreateBuiltinModels(std::string_view argument, const std::string& models_dir,
                                                       c10::Device device, c10::ScalarType dtype);

}  // namespace tsdsr::model

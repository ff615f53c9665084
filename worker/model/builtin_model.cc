#include "worker/model/builtin_model.h"

#include <cstdint>
#include <filesystem>
#include <utility>

#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>

#include "worker/model/multi_scale_model.h"
#include "worker/model/tfjs_model.h"
#include "worker/model/tiler.h"

namespace tsdsr::model {
namespace {

// Runs a 4×4 image through `graph` and checks the output is 3 channels at `scale`× the size: a model.json in
// the wrong folder (or a catalogue mistake) is refused at load rather than producing wrong sizes later.
Status CheckScale(const TfjsGraph& graph, const BuiltinModelInfo& info, const std::string& dir,
                  const c10::TensorOptions& options) {
  constexpr int64_t kProbe = 4;
  if (graph.input_channels() != 3) {
    return Status::InvalidArgument(dir + "/model.json takes " + std::to_string(graph.input_channels()) +
                                   " channels, not RGB");
  }
  try {
    const at::Tensor out = graph.Run(at::zeros({1, 3, kProbe, kProbe}, options));
    if (out.dim() == 4 && out.size(1) == 3 && out.size(2) == kProbe * info.scale && out.size(3) == out.size(2)) {
      return Status::Ok();
    }
    return Status::InvalidArgument(dir + "/model.json turns a (1, 3, 4, 4) input into " + c10::str(out.sizes()) +
                                   ", not a 3-channel ×" + std::to_string(info.scale) + " image as " +
                                   std::string(info.name) + " should");
  } catch (const c10::Error& e) {
    return StatusFromTorchError(e, "built-in model " + std::string(info.name) + " failed a test run");
  }
}

}  // namespace

BuiltinModel::BuiltinModel(BuiltinModelInfo info, std::unique_ptr<TfjsGraph> graph, c10::Device device,
                           c10::ScalarType dtype)
    : info_(info), graph_(std::move(graph)), name_(info.name), scales_{info.scale}, device_(device), dtype_(dtype) {}

Result<std::unique_ptr<BuiltinModel>> BuiltinModel::Create(std::string_view name, const std::string& models_dir,
                                                           c10::Device device, c10::ScalarType dtype) {
  TSDSR_ASSIGN_OR_RETURN(const BuiltinModelInfo info, FindBuiltinModel(name));
  const std::string dir = BuiltinModelDir(models_dir, info);
  std::error_code error;
  if (!std::filesystem::exists(dir + "/model.json", error)) {
    return Status::NotFound("built-in model " + std::string(name) + " is not installed: " + dir +
                            "/model.json is missing; run scripts/fetch-models, or point --models-dir (or "
                            "TSDSR_MODELS_DIR) at the models folder it filled");
  }
  TSDSR_ASSIGN_OR_RETURN(const TfjsModel tfjs, LoadTfjsModel(dir));
  const c10::TensorOptions options = c10::TensorOptions().dtype(dtype).device(device);
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<TfjsGraph> graph, TfjsGraph::Create(tfjs, options));
  TSDSR_RETURN_IF_ERROR(CheckScale(*graph, info, dir, options));
  return std::unique_ptr<BuiltinModel>(new BuiltinModel(info, std::move(graph), device, dtype));
}

at::Tensor BuiltinModel::Forward(const at::Tensor& batch, int scale) {
  TORCH_CHECK(scale == info_.scale, name_, " upscales by ", info_.scale, " only, not ", scale);
  TORCH_CHECK(batch.dim() == 4 && batch.size(1) == 3, name_, " takes a batch shaped (N, 3, h, w), got ", batch.sizes());
  at::Tensor x = batch.to(device_, dtype_);
  if (info_.pixel_range != 1) x = x.mul(info_.pixel_range);
  const at::Tensor y = graph_->Run(x);
  return info_.pixel_range != 1 ? y.div(info_.pixel_range) : y;
}

TileFootprint BuiltinModel::footprint(int /*scale*/) const {
  const auto element = static_cast<std::int64_t>(c10::elementSize(dtype_));
  return {info_.context, 2 * element * graph_->PeakValuesPerPixel()};
}

Result<std::unique_ptr<TileModel>> CreateBuiltinModels(std::string_view argument, const std::string& models_dir,
                                                       c10::Device device, c10::ScalarType dtype) {
  TSDSR_ASSIGN_OR_RETURN(const std::vector<BuiltinModelInfo> infos, ExpandBuiltinSpec(argument));
  std::vector<std::unique_ptr<TileModel>> models;
  for (const BuiltinModelInfo& info : infos) {
    TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<BuiltinModel> model, BuiltinModel::Create(info.name, models_dir, device, dtype));
    models.push_back(std::move(model));
  }
  if (models.size() == 1) return std::move(models.front());
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<MultiScaleModel> multi, MultiScaleModel::Create(std::move(models)));
  return std::unique_ptr<TileModel>(std::move(multi));
}

}  // namespace tsdsr::model

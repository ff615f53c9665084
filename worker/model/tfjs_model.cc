#include "worker/model/tfjs_model.h"

#include <fstream>
#include <set>
#include <utility>

#include "worker/model/tfjs_weights.h"

namespace tsdsr::model {
namespace {

using nlohmann::json;

Status Bad(const std::string& path, const std::string& what) { return Status::InvalidArgument(path + ": " + what); }

// The layer names of "input_layers" / "output_layers": [[name, node, tensor], ...].
Result<std::vector<std::string>> ParseEndpoints(const json& config, const char* key, const std::string& path) {
  const auto list = config.find(key);
  if (list == config.end() || !list->is_array() || list->empty()) return Bad(path, std::string("no ") + key);
  std::vector<std::string> names;
  for (const json& entry : *list) {
    if (!entry.is_array() || entry.empty() || !entry[0].is_string()) {
      return Bad(path, std::string("malformed ") + key + " entry " + entry.dump());
    }
    names.push_back(entry[0].get<std::string>());
  }
  return names;
}

Result<TfjsLayerInput> ParseInput(const json& entry, const std::string& layer, const std::string& path) {
  if (!entry.is_array() || entry.size() < 3 || !entry[0].is_string() || !entry[1].is_number_integer() ||
      !entry[2].is_number_integer()) {
    return Bad(path, "layer '" + layer + "': unsupported inbound node format " + entry.dump().substr(0, 200) +
                         " (expected [layer, node, tensor, kwargs])");
  }
  TfjsLayerInput input;
  input.layer = entry[0].get<std::string>();
  input.node_index = entry[1].get<int>();
  input.tensor_index = entry[2].get<int>();
  return input;
}

Result<TfjsLayer> ParseLayer(const json& entry, const std::string& path) {
  if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string() ||
      !entry.contains("config") || !entry["config"].is_object()) {
    return Bad(path, "a layer has no class_name or config: " + entry.dump().substr(0, 200));
  }
  TfjsLayer layer;
  layer.class_name = entry["class_name"].get<std::string>();
  layer.config = entry["config"];
  const json& name = entry.contains("name") ? entry["name"] : layer.config.value("name", json());
  if (!name.is_string()) return Bad(path, "a " + layer.class_name + " layer has no name");
  layer.name = name.get<std::string>();
  const json nodes = entry.value("inbound_nodes", json::array());
  if (!nodes.is_array()) return Bad(path, "layer '" + layer.name + "': inbound_nodes is not an array");
  if (nodes.size() > 1) {
    return Bad(path, "layer '" + layer.name + "' is called " + std::to_string(nodes.size()) +
                         " times; shared layers are not supported");
  }
  if (nodes.size() == 1) {
    if (!nodes[0].is_array()) return Bad(path, "layer '" + layer.name + "': unsupported inbound node format");
    for (const json& input : nodes[0]) {
      TSDSR_ASSIGN_OR_RETURN(TfjsLayerInput parsed, ParseInput(input, layer.name, path));
      layer.inputs.push_back(std::move(parsed));
    }
  }
  return layer;
}

// Every name used as an input or endpoint is a layer, and names are unique.
Status CheckReferences(const TfjsModel& model) {
  std::set<std::string> names;
  for (const TfjsLayer& layer : model.layers) {
    if (!names.insert(layer.name).second) return Bad(model.path, "two layers are named '" + layer.name + "'");
  }
  for (const TfjsLayer& layer : model.layers) {
    for (const TfjsLayerInput& input : layer.inputs) {
      if (!names.count(input.layer)) {
        return Bad(model.path, "layer '" + layer.name + "' takes its input from '" + input.layer +
                                   "', which is not a layer of the model");
      }
    }
  }
  for (const auto* list : {&model.input_layers, &model.output_layers}) {
    for (const std::string& name : *list) {
      if (!names.count(name)) return Bad(model.path, "input/output layer '" + name + "' is not a layer");
    }
  }
  return Status::Ok();
}

Result<TfjsModel> ParseTopologyUnguarded(const json& model_json, const std::string& path) {
  if (!model_json.is_object() || !model_json.contains("modelTopology")) return Bad(path, "no modelTopology");
  const std::string format = model_json.value("format", "layers-model");
  if (format != "layers-model") return Bad(path, "format '" + format + "' is not a layers-model");
  const json& topology = model_json["modelTopology"];
  const json& model_config = topology.contains("model_config") ? topology["model_config"] : topology;
  const std::string class_name = model_config.value("class_name", "");
  if (class_name != "Model" && class_name != "Functional") {
    return Bad(path, "a '" + class_name + "' model; only functional models (Model, Functional) are supported");
  }
  const json& config = model_config.at("config");
  if (!config.contains("layers") || !config["layers"].is_array()) return Bad(path, "no layers");
  TfjsModel model;
  model.path = path;
  for (const json& entry : config["layers"]) {
    TSDSR_ASSIGN_OR_RETURN(TfjsLayer layer, ParseLayer(entry, path));
    model.layers.push_back(std::move(layer));
  }
  TSDSR_ASSIGN_OR_RETURN(model.input_layers, ParseEndpoints(config, "input_layers", path));
  TSDSR_ASSIGN_OR_RETURN(model.output_layers, ParseEndpoints(config, "output_layers", path));
  TSDSR_RETURN_IF_ERROR(CheckReferences(model));
  return model;
}

}  // namespace

Result<TfjsModel> ParseTfjsTopology(const json& model_json, const std::string& path) {
  try {
    return ParseTopologyUnguarded(model_json, path);
  } catch (const json::exception& e) {
    return Bad(path, std::string("malformed topology: ") + e.what());
  }
}

Result<TfjsModel> LoadTfjsModel(const std::string& dir) {
  const std::string path = dir + "/model.json";
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open " + path);
  json model_json = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (model_json.is_discarded()) return Bad(path, "not valid JSON");
  TSDSR_ASSIGN_OR_RETURN(TfjsModel model, ParseTfjsTopology(model_json, path));
  if (!model_json.contains("weightsManifest")) return Bad(path, "no weightsManifest");
  auto groups = ParseWeightsManifest(model_json["weightsManifest"]);
  if (!groups.ok()) return Bad(path, groups.status().message());
  TSDSR_ASSIGN_OR_RETURN(model.weights, ReadWeights(*groups, dir));
  return model;
}

}  // namespace tsdsr::model

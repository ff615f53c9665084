// A TensorFlow.js layers model as stored on disk (model.json + weight shards): the functional Keras graph's
// layers with their configs and connections, and the weights by name. Nothing runs here: TfjsGraph does that.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tsdsr::model {

// One input of a layer: the output `tensor_index` of call `node_index` of layer `layer`.
struct TfjsLayerInput {
  std::string layer;
  int node_index = 0;
  int tensor_index = 0;
};

struct TfjsLayer {
  std::string class_name;              // Keras class, e.g. "Conv2D"
  std::string name;                    // unique within the model
  nlohmann::json config;               // the layer's "config" object
  std::vector<TfjsLayerInput> inputs;  // of its one call; empty for an InputLayer
};

struct TfjsModel {
  std::string path;                           // model.json, for messages
  std::vector<TfjsLayer> layers;              // in file order
  std::vector<std::string> input_layers;      // layer names
  std::vector<std::string> output_layers;     // layer names
  std::map<std::string, at::Tensor> weights;  // "layer/kernel" → float32 CPU tensor in TF layout
};

// Parses the graph of a parsed model.json ("modelTopology": a functional Model, with or without the
// "model_config" wrapper). `path` only names the file in messages. InvalidArgument naming the file (and layer)
// for a format that is not a functional layers model, a layer called more than once (shared layers), or an
// input that names no layer. Weights are not read.
Result<TfjsModel> ParseTfjsTopology(const nlohmann::json& model_json, const std::string& path);

// Reads DIR/model.json and every weight shard it names. NotFound for a missing model.json or shard;
// InvalidArgument naming the file (and the layer or tensor) for anything malformed, truncated or unsupported.
Result<TfjsModel> LoadTfjsModel(const std::string& dir);

}  // namespace tsdsr::model

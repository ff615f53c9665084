// The weights of a TensorFlow.js layers model: model.json's "weightsManifest" and the binary shard files it
// names. A group's tensors are stored back to back across its shards (a tensor may straddle two shards), as
// float32, float16, or uint8/uint16 quantized (value = q · scale + min), little-endian.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace tsdsr::model {

// How one tensor's values are stored in the shards.
enum class TfjsStorage { kFloat32, kFloat16, kUint8, kUint16 };

struct TfjsWeightSpec {
  std::string name;            // e.g. "F_0/kernel"
  std::vector<int64_t> shape;  // TF layout: a Conv2D kernel is (kh, kw, in, out)
  TfjsStorage storage = TfjsStorage::kFloat32;
  double scale = 1.0;  // uint8/uint16 only: value = q · scale + min
  double min = 0.0;

  // Number of values (1 for a scalar).
  int64_t Elements() const;
  // Bytes the tensor takes in the shards.
  int64_t Bytes() const;
};

struct TfjsWeightGroup {
  std::vector<std::string> paths;       // shard files, relative to model.json's folder, in order
  std::vector<TfjsWeightSpec> weights;  // in the order their bytes follow one another
};

// Parses model.json's "weightsManifest" (an array of groups). InvalidArgument naming the tensor for a malformed
// entry, a dtype other than float32, a quantization other than uint8/uint16/float16, a negative dimension, a
// duplicate name, or a shard path that is absolute or leaves the folder.
Result<std::vector<TfjsWeightGroup>> ParseWeightsManifest(const nlohmann::json& manifest);

// Reads the shards of every group from `dir`, concatenated per group, and slices them into float32 CPU tensors
// keyed by name (dequantized). NotFound for a shard that cannot be opened; InvalidArgument, naming the shard
// file and the first tensor that does not fit, when a group's shards hold fewer or more bytes than its tensors.
Result<std::map<std::string, at::Tensor>> ReadWeights(const std::vector<TfjsWeightGroup>& groups,
                                                      const std::string& dir);

// Decodes one tensor's bytes (spec.Bytes() of them at `data`) into a float32 CPU tensor shaped spec.shape.
// Exposed for tests.
at::Tensor DecodeTensor(const TfjsWeightSpec& spec, const uint8_t* data);

}  // namespace tsdsr::model

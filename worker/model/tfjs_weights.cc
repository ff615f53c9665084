#include "worker/model/tfjs_weights.h"

#include <cstring>
#include <fstream>
#include <set>
#include <utility>

#include <ATen/ops/empty.h>
#include <c10/util/Half.h>
#include <nlohmann/json.hpp>

namespace tsdsr::model {
namespace {

using nlohmann::json;

Status BadEntry(const std::string& name, const std::string& what) {
  return Status::InvalidArgument("weightsManifest: tensor '" + name + "': " + what);
}

// Fills spec.storage, scale and min from the entry's "dtype" and optional "quantization".
Status ParseStorage(const json& entry, TfjsWeightSpec& spec) {
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string() || dtype->get<std::string>() != "float32") {
    return BadEntry(spec.name, "dtype " + (dtype == entry.end() ? std::string("missing") : dtype->dump()) +
                                   " is not supported (only float32)");
  }
  const auto quantization = entry.find("quantization");
  if (quantization == entry.end() || quantization->is_null()) return Status::Ok();
  const auto qtype = quantization->find("dtype");
  const std::string q = (qtype != quantization->end() && qtype->is_string()) ? qtype->get<std::string>() : "";
  if (q == "float16") {
    spec.storage = TfjsStorage::kFloat16;
    return Status::Ok();
  }
  if (q != "uint8" && q != "uint16") {
    return BadEntry(spec.name, "quantization " + quantization->dump() + " is not supported (uint8, uint16, float16)");
  }
  const auto scale = quantization->find("scale");
  const auto min = quantization->find("min");
  if (scale == quantization->end() || !scale->is_number() || min == quantization->end() || !min->is_number()) {
    return BadEntry(spec.name, q + " quantization needs numeric 'scale' and 'min'");
  }
  spec.storage = q == "uint8" ? TfjsStorage::kUint8 : TfjsStorage::kUint16;
  spec.scale = scale->get<double>();
  spec.min = min->get<double>();
  return Status::Ok();
}

Result<TfjsWeightSpec> ParseWeight(const json& entry) {
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
    return Status::InvalidArgument("weightsManifest: an entry has no name: " + entry.dump().substr(0, 200));
  }
  TfjsWeightSpec spec;
  spec.name = entry["name"].get<std::string>();
  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) return BadEntry(spec.name, "no shape");
  for (const json& d : *shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) return BadEntry(spec.name, "bad shape " + shape->dump());
    spec.shape.push_back(d.get<int64_t>());
  }
  TSDSR_RETURN_IF_ERROR(ParseStorage(entry, spec));
  return spec;
}

// A shard path must stay inside model.json's folder.
bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0 && end - start == 2) return false;
    start = end + 1;
  }
  return true;
}

Result<TfjsWeightGroup> ParseGroup(const json& entry, std::set<std::string>& names) {
  TfjsWeightGroup group;
  const auto paths = entry.is_object() ? entry.find("paths") : entry.end();
  const auto weights = entry.is_object() ? entry.find("weights") : entry.end();
  if (paths == entry.end() || !paths->is_array() || weights == entry.end() || !weights->is_array()) {
    return Status::InvalidArgument("weightsManifest: a group needs 'paths' and 'weights' arrays");
  }
  for (const json& path : *paths) {
    if (!path.is_string() || !IsSafeRelativePath(path.get<std::string>())) {
      return Status::InvalidArgument("weightsManifest: shard path " + path.dump() +
                                     " must be relative and stay inside the model's folder");
    }
    group.paths.push_back(path.get<std::string>());
  }
  for (const json& weight : *weights) {
    TSDSR_ASSIGN_OR_RETURN(TfjsWeightSpec spec, ParseWeight(weight));
    if (!names.insert(spec.name).second) return BadEntry(spec.name, "listed twice");
    group.weights.push_back(std::move(spec));
  }
  return group;
}

Result<std::vector<uint8_t>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::NotFound("cannot open weight shard " + path);
  const std::streamoff size = in.tellg();
  std::vector<uint8_t> bytes(size > 0 ? static_cast<size_t>(size) : 0);
  in.seekg(0);
  if (size < 0 || !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    return Status::Internal("error reading weight shard " + path);
  }
  return bytes;
}

// The shard of `group` that holds byte `offset` of the concatenation (the last one when past the end).
std::string ShardAt(const TfjsWeightGroup& group, const std::vector<int64_t>& shard_ends, int64_t offset) {
  for (size_t i = 0; i < shard_ends.size(); ++i) {
    if (offset < shard_ends[i]) return group.paths[i];
  }
  return group.paths.empty() ? std::string("(no shard)") : group.paths.back();
}

// Reads one group's shards and slices them. `dir` is only for messages and paths.
Status ReadGroup(const TfjsWeightGroup& group, const std::string& dir, std::map<std::string, at::Tensor>& out) {
  std::vector<uint8_t> bytes;
  std::vector<int64_t> shard_ends;
  for (const std::string& path : group.paths) {
    TSDSR_ASSIGN_OR_RETURN(std::vector<uint8_t> shard, ReadFile(dir + "/" + path));
    bytes.insert(bytes.end(), shard.begin(), shard.end());
    shard_ends.push_back(static_cast<int64_t>(bytes.size()));
  }
  const int64_t total = static_cast<int64_t>(bytes.size());
  int64_t offset = 0;
  for (const TfjsWeightSpec& spec : group.weights) {
    const int64_t size = spec.Bytes();
    if (offset + size > total) {
      return Status::InvalidArgument(
          dir + "/" + ShardAt(group, shard_ends, total) + ": truncated: tensor '" + spec.name + "' needs bytes " +
          std::to_string(offset) + ".." + std::to_string(offset + size) + " of its group, whose shards hold " +
          std::to_string(total) + "; the file is incomplete or not the one model.json describes");
    }
    out[spec.name] = DecodeTensor(spec, bytes.data() + offset);
    offset += size;
  }
  if (offset != total) {
    return Status::InvalidArgument(dir + "/" + ShardAt(group, shard_ends, offset) + ": " +
                                   std::to_string(total - offset) + " bytes more than the " +
                                   std::to_string(group.weights.size()) +
                                   " tensors model.json lists; the file is not the one model.json describes");
  }
  return Status::Ok();
}

}  // namespace

int64_t TfjsWeightSpec::Elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TfjsWeightSpec::Bytes() const {
  switch (storage) {
    case TfjsStorage::kUint8:
      return Elements();
    case TfjsStorage::kFloat16:
    case TfjsStorage::kUint16:
      return Elements() * 2;
    case TfjsStorage::kFloat32:
      break;
  }
  return Elements() * 4;
}

at::Tensor DecodeTensor(const TfjsWeightSpec& spec, const uint8_t* data) {
  const int64_t n = spec.Elements();
  at::Tensor out = at::empty({n}, at::kFloat);
  float* values = out.data_ptr<float>();
  // memcpy per value: the bytes of a tensor need not be aligned for its type (a uint8 tensor may precede it).
  for (int64_t i = 0; i < n; ++i) {
    switch (spec.storage) {
      case TfjsStorage::kFloat32:
        std::memcpy(&values[i], data + 4 * i, 4);
        break;
      case TfjsStorage::kFloat16: {
        uint16_t bits;
        std::memcpy(&bits, data + 2 * i, 2);
        values[i] = static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
        break;
      }
      case TfjsStorage::kUint8:  // computed in double, as TF.js does with JavaScript numbers
        values[i] = static_cast<float>(data[i] * spec.scale + spec.min);
        break;
      case TfjsStorage::kUint16: {
        uint16_t q;
        std::memcpy(&q, data + 2 * i, 2);
        values[i] = static_cast<float>(q * spec.scale + spec.min);
        break;
      }
    }
  }
  return out.reshape(spec.shape);
}

Result<std::vector<TfjsWeightGroup>> ParseWeightsManifest(const nlohmann::json& manifest) {
  if (!manifest.is_array()) return Status::InvalidArgument("weightsManifest must be an array of groups");
  std::vector<TfjsWeightGroup> groups;
  std::set<std::string> names;
  try {
    for (const json& entry : manifest) {
      TSDSR_ASSIGN_OR_RETURN(TfjsWeightGroup group, ParseGroup(entry, names));
      groups.push_back(std::move(group));
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("weightsManifest: ") + e.what());
  }
  return groups;
}

Result<std::map<std::string, at::Tensor>> ReadWeights(const std::vector<TfjsWeightGroup>& groups,
                                                      const std::string& dir) {
  std::map<std::string, at::Tensor> weights;
  for (const TfjsWeightGroup& group : groups) TSDSR_RETURN_IF_ERROR(ReadGroup(group, dir, weights));
  return weights;
}

}  // namespace tsdsr::model

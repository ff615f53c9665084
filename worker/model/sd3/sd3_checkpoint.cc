#include "worker/model/sd3/sd3_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "worker/model/sd3/lora.h"

namespace tsdsr::model::sd3 {
namespace {

constexpr char kWeightsFile[] = "diffusion_pytorch_model.safetensors";
constexpr char kIndexFile[] = "diffusion_pytorch_model.safetensors.index.json";

bool Exists(const std::string& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

// shard file name → the tensors the index puts in it.
Result<std::map<std::string, std::set<std::string>>> ReadIndex(const std::string& path) {
  std::ifstream in(path);
  const nlohmann::json index = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    return Status::InvalidArgument(path + " is not a safetensors index (a JSON object with a \"weight_map\")");
  }
  std::map<std::string, std::set<std::string>> shards;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    const bool plain = shard.is_string() && shard.get<std::string>().find('/') == std::string::npos &&
                       !shard.get<std::string>().empty();
    if (!plain) return Status::InvalidArgument(path + ": tensor " + tensor + " maps to no file of the folder");
    shards[shard.get<std::string>()].insert(tensor);
  }
  return shards;
}

Result<TensorMap> ReadShards(const std::string& dir) {
  const std::string index_path = dir + "/" + kIndexFile;
  TSDSR_ASSIGN_OR_RETURN(const auto shards, ReadIndex(index_path));
  TensorMap weights;
  for (const auto& [file, names] : shards) {
    const std::string shard_path = dir + "/" + file;
    TSDSR_ASSIGN_OR_RETURN(TensorMap shard, ReadSafetensors(shard_path));
    for (const std::string& name : names) {
      auto found = shard.find(name);
      if (found == shard.end()) {
        return Status::InvalidArgument(shard_path + " lacks " + name + ", which " + index_path + " puts there");
      }
      if (!weights.emplace(name, std::move(found->second)).second) {
        return Status::InvalidArgument(index_path + " lists " + name + " twice");
      }
    }
  }
  return weights;
}

// lora_alpha of a LoRA file: its __metadata__ "lora_alpha" when present, else TSD-SR's.
Result<double> LoraAlpha(const SafetensorsContents& file, const std::string& path) {
  auto found = file.metadata.find("lora_alpha");
  if (found == file.metadata.end()) return kTsdsrLoraAlpha;
  try {
    size_t used = 0;
    const double alpha = std::stod(found->second, &used);
    if (used == found->second.size() && alpha > 0) return alpha;
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(path + ": __metadata__ lora_alpha '" + found->second + "' is not a positive number");
}

Status MergeLoraFile(const std::string& path, TensorMap& base) {
  TSDSR_ASSIGN_OR_RETURN(const SafetensorsContents file, ReadSafetensorsFile(path));
  LoraOptions options;
  options.prefix = kTsdsrLoraPrefix;
  TSDSR_ASSIGN_OR_RETURN(options.alpha, LoraAlpha(file, path));
  const Status merged = MergeLora(file.tensors, options, base);
  if (!merged.ok()) return Status(merged.code(), path + ": " + merged.message());
  return Status::Ok();
}

}  // namespace

Result<TensorMap> ReadDiffusersWeights(const std::string& dir) {
  if (Exists(dir + "/" + kWeightsFile)) return ReadSafetensors(dir + "/" + kWeightsFile);
  if (Exists(dir + "/" + kIndexFile)) return ReadShards(dir);
  return Status::NotFound(dir + " holds neither " + kWeightsFile + " nor " + kIndexFile);
}

Result<TsdsrCheckpoint> ReadTsdsrCheckpoint(const TsdsrPaths& paths) {
  TsdsrCheckpoint checkpoint;
  TSDSR_ASSIGN_OR_RETURN(checkpoint.transformer_config,
                         ReadDiffusersTransformerConfig(paths.sd3_dir + "/transformer/config.json"));
  TSDSR_ASSIGN_OR_RETURN(checkpoint.vae_config, ReadDiffusersVaeConfig(paths.sd3_dir + "/vae/config.json"));
  TSDSR_ASSIGN_OR_RETURN(checkpoint.embeddings,
                         ReadPromptEmbeddings(paths.embeddings_dir, checkpoint.transformer_config.joint_attention_dim,
                                              checkpoint.transformer_config.pooled_projection_dim));
  TSDSR_ASSIGN_OR_RETURN(checkpoint.transformer_weights, ReadDiffusersWeights(paths.sd3_dir + "/transformer"));
  TSDSR_RETURN_IF_ERROR(MergeLoraFile(paths.lora_dir + "/transformer.safetensors", checkpoint.transformer_weights));
  TSDSR_ASSIGN_OR_RETURN(checkpoint.vae_weights, ReadDiffusersWeights(paths.sd3_dir + "/vae"));
  TSDSR_RETURN_IF_ERROR(MergeLoraFile(paths.lora_dir + "/vae.safetensors", checkpoint.vae_weights));
  return checkpoint;
}

}  // namespace tsdsr::model::sd3

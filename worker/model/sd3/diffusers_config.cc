#include "worker/model/sd3/diffusers_config.h"

#include <fstream>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace tsdsr::model::sd3 {
namespace {

using nlohmann::json;

// Reads typed keys out of a config object, keeping the first error; absent keys leave the default in place.
class Fields {
 public:
  Fields(const json& config, std::string source) : config_(config), source_(std::move(source)) {}

  const Status& status() const { return status_; }

  void Fail(const std::string& key, const std::string& what) {
    if (status_.ok()) status_ = Status::InvalidArgument(source_ + ": key \"" + key + "\": " + what);
  }

  // An integer ≥ min (not a float, not a bool).
  void Int(const std::string& key, int64_t& out, int64_t min = 1) {
    const json* v = Find(key);
    if (v != nullptr) ParseInt(key, *v, out, min);
  }
  // As Int; null means none.
  void OptionalInt(const std::string& key, std::optional<int64_t>& out, int64_t min = 1) {
    const json* v = Find(key);
    if (v == nullptr) return;
    if (v->is_null()) {
      out.reset();
      return;
    }
    int64_t value = 0;
    if (ParseInt(key, *v, value, min)) out = value;
  }
  // Any JSON number; null sets `null_value` when given.
  void Number(const std::string& key, double& out, std::optional<double> null_value = std::nullopt) {
    const json* v = Find(key);
    if (v == nullptr) return;
    if (v->is_null() && null_value) {
      out = *null_value;
    } else if (v->is_number()) {
      out = v->get<double>();
    } else {
      Fail(key, "expected a number, got " + v->dump());
    }
  }
  void Bool(const std::string& key, bool& out) {
    const json* v = Find(key);
    if (v == nullptr) return;
    if (v->is_boolean()) {
      out = v->get<bool>();
    } else {
      Fail(key, "expected true or false, got " + v->dump());
    }
  }
  void String(const std::string& key, std::string& out) {
    const json* v = Find(key);
    if (v == nullptr) return;
    if (v->is_string()) {
      out = v->get<std::string>();
    } else {
      Fail(key, "expected a string, got " + v->dump());
    }
  }
  // A non-empty list of integers ≥ min.
  void IntList(const std::string& key, std::vector<int64_t>& out, int64_t min = 1) {
    const json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_array() || v->empty()) return Fail(key, "expected a non-empty list of integers, got " + v->dump());
    std::vector<int64_t> values;
    for (const json& item : *v) {
      int64_t value = 0;
      if (!ParseInt(key, item, value, min)) return;
      values.push_back(value);
    }
    out = std::move(values);
  }
  // A non-empty list of strings.
  void StringList(const std::string& key, std::vector<std::string>& out) {
    const json* v = Find(key);
    if (v == nullptr) return;
    if (!v->is_array() || v->empty()) return Fail(key, "expected a non-empty list of strings, got " + v->dump());
    std::vector<std::string> values;
    for (const json& item : *v) {
      if (!item.is_string()) return Fail(key, "expected a non-empty list of strings, got " + v->dump());
      values.push_back(item.get<std::string>());
    }
    out = std::move(values);
  }

  // Fails unless "_class_name", when present, is `expected`.
  void ClassName(const std::string& expected) {
    std::string name = expected;
    String("_class_name", name);
    if (name != expected) Fail("_class_name", "is \"" + name + "\", not \"" + expected + "\"");
  }

 private:
  const json* Find(const std::string& key) const {
    const auto it = config_.find(key);
    return it == config_.end() ? nullptr : &*it;
  }
  bool ParseInt(const std::string& key, const json& v, int64_t& out, int64_t min) {
    const bool fits = v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= INT64_MAX);
    if (!fits || v.get<int64_t>() < min) {
      Fail(key, "expected an integer ≥ " + std::to_string(min) + ", got " + v.dump());
      return false;
    }
    out = v.get<int64_t>();
    return true;
  }

  const json& config_;
  std::string source_;
  Status status_;
};

Result<json> ReadJsonObject(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  try {
    json config = json::parse(text.str());
    if (!config.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
    return config;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(path + ": not valid JSON: " + e.what());
  }
}

}  // namespace

Result<DiffusersTransformerConfig> ParseDiffusersTransformerConfig(const json& config, const std::string& source) {
  if (!config.is_object()) return Status::InvalidArgument(source + ": not a JSON object");
  DiffusersTransformerConfig c;
  Fields f(config, source);
  f.ClassName("SD3Transformer2DModel");
  f.Int("sample_size", c.sample_size);
  f.Int("patch_size", c.patch_size);
  f.Int("in_channels", c.in_channels);
  f.Int("num_layers", c.num_layers);
  f.Int("attention_head_dim", c.attention_head_dim);
  f.Int("num_attention_heads", c.num_attention_heads);
  f.Int("joint_attention_dim", c.joint_attention_dim);
  f.Int("caption_projection_dim", c.caption_projection_dim);
  f.Int("pooled_projection_dim", c.pooled_projection_dim);
  c.out_channels = c.in_channels;  // what null means
  std::optional<int64_t> out_channels = DiffusersTransformerConfig().out_channels;
  f.OptionalInt("out_channels", out_channels);
  if (out_channels) c.out_channels = *out_channels;
  f.OptionalInt("pos_embed_max_size", c.pos_embed_max_size);
  // SD3.5 additions (later diffusers): refused unless they say "as SD3".
  const auto qk_norm = config.find("qk_norm");
  if (qk_norm != config.end() && !qk_norm->is_null()) f.Fail("qk_norm", "SD3.5's qk_norm is not supported");
  const auto dual = config.find("dual_attention_layers");
  if (dual != config.end() && !(dual->is_array() && dual->empty())) {
    f.Fail("dual_attention_layers", "SD3.5's dual attention layers are not supported");
  }
  if (f.status().ok() && c.caption_projection_dim != c.inner_dim()) {
    f.Fail("caption_projection_dim", std::to_string(c.caption_projection_dim) + " is not num_attention_heads · " +
                                         "attention_head_dim = " + std::to_string(c.inner_dim()));
  }
  if (!f.status().ok()) return f.status();
  return c;
}

Result<DiffusersVaeConfig> ParseDiffusersVaeConfig(const json& config, const std::string& source) {
  if (!config.is_object()) return Status::InvalidArgument(source + ": not a JSON object");
  DiffusersVaeConfig c;
  Fields f(config, source);
  f.ClassName("AutoencoderKL");
  f.Int("in_channels", c.in_channels);
  f.Int("out_channels", c.out_channels);
  f.StringList("down_block_types", c.down_block_types);
  f.StringList("up_block_types", c.up_block_types);
  f.IntList("block_out_channels", c.block_out_channels);
  f.Int("layers_per_block", c.layers_per_block);
  f.Int("latent_channels", c.latent_channels);
  f.Int("norm_num_groups", c.norm_num_groups);
  f.Number("scaling_factor", c.scaling_factor);
  f.Number("shift_factor", c.shift_factor, 0.0);
  f.Bool("use_quant_conv", c.use_quant_conv);
  f.Bool("use_post_quant_conv", c.use_post_quant_conv);
  f.Bool("mid_block_add_attention", c.mid_block_add_attention);
  std::string act_fn = "silu";
  f.String("act_fn", act_fn);
  if (act_fn != "silu") f.Fail("act_fn", "\"" + act_fn + "\" is not supported (only \"silu\")");
  for (const std::string& type : c.down_block_types) {
    if (type != "DownEncoderBlock2D") f.Fail("down_block_types", "\"" + type + "\" is not supported");
  }
  for (const std::string& type : c.up_block_types) {
    if (type != "UpDecoderBlock2D") f.Fail("up_block_types", "\"" + type + "\" is not supported");
  }
  if (c.down_block_types.size() != c.block_out_channels.size()) {
    f.Fail("down_block_types", "has " + std::to_string(c.down_block_types.size()) + " entries, block_out_channels " +
                                   std::to_string(c.block_out_channels.size()));
  }
  if (c.up_block_types.size() != c.block_out_channels.size()) {
    f.Fail("up_block_types", "has " + std::to_string(c.up_block_types.size()) + " entries, block_out_channels " +
                                 std::to_string(c.block_out_channels.size()));
  }
  for (int64_t channels : c.block_out_channels) {
    if (channels % c.norm_num_groups != 0) {
      f.Fail("block_out_channels", std::to_string(channels) + " channels do not split into norm_num_groups = " +
                                       std::to_string(c.norm_num_groups) + " groups");
    }
  }
  if (!f.status().ok()) return f.status();
  return c;
}

Result<DiffusersTransformerConfig> ReadDiffusersTransformerConfig(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(json config, ReadJsonObject(path));
  return ParseDiffusersTransformerConfig(config, path);
}

Result<DiffusersVaeConfig> ReadDiffusersVaeConfig(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(json config, ReadJsonObject(path));
  return ParseDiffusersVaeConfig(config, path);
}

}  // namespace tsdsr::model::sd3

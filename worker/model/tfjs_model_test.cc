#include "worker/model/tfjs_model.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "worker/model/tfjs_test_files.h"
#include "worker/model/tfjs_weights.h"

namespace tsdsr::model {
namespace {

using testing::Concat;
using testing::Float32Bytes;
using testing::Slice;
using testing::TempDir;
using testing::Uint16Bytes;

// A model.json whose graph is a lone input layer, with `manifest` as its weightsManifest.
std::string ModelJson(const std::string& manifest) {
  return R"({"format": "layers-model", "modelTopology": {"model_config": {"class_name": "Functional", "config": {
      "layers": [{"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
                  "config": {"name": "in", "batch_input_shape": [null, null, null, 3]}}],
      "input_layers": [["in", 0, 0]], "output_layers": [["in", 0, 0]]}}},
    "weightsManifest": )" +
         manifest + "}";
}

std::vector<float> Values(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

TEST(TfjsWeightsTest, ConcatenatesShardsAndSlicesTensorsThatStraddleThem) {
  TempDir dir;
  const std::vector<uint8_t> bytes = Float32Bytes({1, 2, 3, 10, 20, 30, 40});
  // "b" (4 floats from byte 12) starts in shard 1 and ends in shard 2.
  dir.Write("s1.bin", Slice(bytes, 0, 18));
  dir.Write("s2.bin", Slice(bytes, 18, bytes.size()));
  dir.WriteText("model.json", ModelJson(R"([{"paths": ["s1.bin", "s2.bin"], "weights": [
      {"name": "a", "shape": [3], "dtype": "float32"}, {"name": "b", "shape": [2, 2], "dtype": "float32"}]}])"));
  auto model = LoadTfjsModel(dir.path());
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_EQ(model->weights.size(), 2u);
  EXPECT_EQ(Values(model->weights.at("a")), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(model->weights.at("b").sizes().vec(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values(model->weights.at("b")), (std::vector<float>{10, 20, 30, 40}));
}

TEST(TfjsWeightsTest, DequantizesUint8AndUint16AndDecodesFloat16) {
  TempDir dir;
  // uint8 q·0.5 − 1; then float16 1, −2, 1/3 (0x3555 = 0.333251953125), unaligned after 3 bytes; then uint16.
  const std::vector<uint8_t> bytes =
      Concat(Concat({0, 1, 255}, Uint16Bytes({0x3C00, 0xC000, 0x3555})), Uint16Bytes({0, 65535}));
  dir.Write("w.bin", bytes);
  dir.WriteText("model.json", ModelJson(R"([{"paths": ["w.bin"], "weights": [
      {"name": "q8", "shape": [3], "dtype": "float32",
       "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1, "original_dtype": "float32"}},
      {"name": "h", "shape": [3], "dtype": "float32", "quantization": {"dtype": "float16"}},
      {"name": "q16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.001, "min": 2}}
  ]}])"));
  auto model = LoadTfjsModel(dir.path());
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(Values(model->weights.at("q8")), (std::vector<float>{-1.0f, -0.5f, 126.5f}));
  EXPECT_EQ(Values(model->weights.at("h")), (std::vector<float>{1.0f, -2.0f, 0.333251953125f}));
  EXPECT_EQ(Values(model->weights.at("q16")), (std::vector<float>{2.0f, static_cast<float>(65535 * 0.001 + 2)}));
}

TEST(TfjsWeightsTest, ATruncatedShardIsAnErrorNamingTheFileAndTensor) {
  TempDir dir;
  const std::vector<uint8_t> bytes = Float32Bytes({1, 2, 3, 4, 5});
  dir.Write("s1.bin", Slice(bytes, 0, 8));
  dir.Write("s2.bin", Slice(bytes, 8, 18));  // 2 bytes short
  dir.WriteText("model.json", ModelJson(R"([{"paths": ["s1.bin", "s2.bin"], "weights": [
      {"name": "a", "shape": [2], "dtype": "float32"}, {"name": "b", "shape": [3], "dtype": "float32"}]}])"));
  auto model = LoadTfjsModel(dir.path());
  ASSERT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(dir.path() + "/s2.bin"), std::string::npos) << model.status().message();
  EXPECT_NE(model.status().message().find("tensor 'b'"), std::string::npos) << model.status().message();
  EXPECT_NE(model.status().message().find("truncated"), std::string::npos) << model.status().message();
}

TEST(TfjsWeightsTest, ExtraBytesAndMissingShardsAreErrors) {
  TempDir dir;
  dir.Write("w.bin", Float32Bytes({1, 2, 3}));
  dir.WriteText("model.json", ModelJson(R"([{"paths": ["w.bin"], "weights": [
      {"name": "a", "shape": [2], "dtype": "float32"}]}])"));
  auto extra = LoadTfjsModel(dir.path());
  ASSERT_EQ(extra.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(extra.status().message().find("4 bytes more"), std::string::npos) << extra.status().message();

  dir.WriteText("model.json", ModelJson(R"([{"paths": ["w.bin", "gone.bin"], "weights": [
      {"name": "a", "shape": [3], "dtype": "float32"}]}])"));
  auto missing = LoadTfjsModel(dir.path());
  ASSERT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("gone.bin"), std::string::npos) << missing.status().message();
}

TEST(TfjsWeightsTest, RefusesWhatItCannotDecode) {
  const struct {
    const char* manifest;
    const char* expected;
  } cases[] = {
      {R"([{"paths": ["w.bin"], "weights": [{"name": "i", "shape": [1], "dtype": "int32"}]}])", "tensor 'i'"},
      {R"([{"paths": ["w.bin"], "weights": [{"name": "q", "shape": [1], "dtype": "float32",
           "quantization": {"dtype": "int8", "scale": 1, "min": 0}}]}])",
       "quantization"},
      {R"([{"paths": ["w.bin"], "weights": [{"name": "q", "shape": [1], "dtype": "float32",
           "quantization": {"dtype": "uint8"}}]}])",
       "scale"},
      {R"([{"paths": ["w.bin"], "weights": [{"name": "n", "shape": [-1], "dtype": "float32"}]}])", "shape"},
      {R"([{"paths": ["../w.bin"], "weights": []}])", "inside the model's folder"},
      {R"([{"paths": ["w.bin"], "weights": [{"name": "d", "shape": [1], "dtype": "float32"},
           {"name": "d", "shape": [1], "dtype": "float32"}]}])",
       "listed twice"},
      {R"({"paths": []})", "array"},
  };
  for (const auto& c : cases) {
    auto groups = ParseWeightsManifest(nlohmann::json::parse(c.manifest));
    ASSERT_EQ(groups.status().code(), StatusCode::kInvalidArgument) << c.manifest;
    EXPECT_NE(groups.status().message().find(c.expected), std::string::npos) << groups.status().message();
  }
}

TEST(TfjsTopologyTest, ParsesLayersInputsAndEndpoints) {
  const auto json = nlohmann::json::parse(R"({"modelTopology": {"class_name": "Model", "config": {
      "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x"}, "inbound_nodes": []},
        {"class_name": "Add", "config": {"name": "sum"}, "inbound_nodes": [[["x", 0, 0, {}], ["x", 0, 0, {}]]]}],
      "input_layers": [["x", 0, 0]], "output_layers": [["sum", 0, 0]]}}})");
  auto model = ParseTfjsTopology(json, "m.json");
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_EQ(model->layers.size(), 2u);
  EXPECT_EQ(model->layers[1].class_name, "Add");
  EXPECT_EQ(model->layers[1].name, "sum");  // from config when the layer has no top-level name
  ASSERT_EQ(model->layers[1].inputs.size(), 2u);
  EXPECT_EQ(model->layers[1].inputs[1].layer, "x");
  EXPECT_EQ(model->input_layers, std::vector<std::string>{"x"});
  EXPECT_EQ(model->output_layers, std::vector<std::string>{"sum"});
}

TEST(TfjsTopologyTest, RefusesWhatIsNotAFunctionalGraphItCanRun) {
  const struct {
    const char* topology;
    const char* expected;
  } cases[] = {
      {R"({"class_name": "Sequential", "config": {"layers": []}})", "'Sequential' model"},
      {R"({"class_name": "Model", "config": {"layers": [
          {"class_name": "Add", "name": "a", "config": {}, "inbound_nodes": [[["nope", 0, 0, {}]]]}],
          "input_layers": [["a", 0, 0]], "output_layers": [["a", 0, 0]]}})",
       "'nope', which is not a layer"},
      {R"({"class_name": "Model", "config": {"layers": [
          {"class_name": "InputLayer", "name": "x", "config": {}, "inbound_nodes": []},
          {"class_name": "Add", "name": "a", "config": {}, "inbound_nodes": [[["x", 0, 0, {}]], [["x", 0, 0, {}]]]}],
          "input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]}})",
       "shared layers"},
      {R"({"class_name": "Model", "config": {"layers": [
          {"class_name": "InputLayer", "name": "x", "config": {}, "inbound_nodes": []},
          {"class_name": "Add", "name": "a", "config": {}, "inbound_nodes": [{"args": []}]}],
          "input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]}})",
       "inbound node format"},
  };
  for (const auto& c : cases) {
    const auto json = nlohmann::json::parse(std::string(R"({"modelTopology": )") + c.topology + "}");
    auto model = ParseTfjsTopology(json, "m.json");
    ASSERT_EQ(model.status().code(), StatusCode::kInvalidArgument) << c.topology;
    EXPECT_NE(model.status().message().find(c.expected), std::string::npos) << model.status().message();
    EXPECT_EQ(model.status().message().rfind("m.json: ", 0), 0u) << model.status().message();
  }
}

TEST(TfjsTopologyTest, MissingOrBrokenModelJsonIsAnError) {
  TempDir dir;
  EXPECT_EQ(LoadTfjsModel(dir.path()).status().code(), StatusCode::kNotFound);
  dir.WriteText("model.json", "{\"modelTopology\": ");
  auto broken = LoadTfjsModel(dir.path());
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("not valid JSON"), std::string::npos) << broken.status().message();
}

}  // namespace
}  // namespace tsdsr::model

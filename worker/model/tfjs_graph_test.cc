#include "worker/model/tfjs_graph.h"

#include <string>
#include <vector>

#include <ATen/Context.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/pixel_shuffle.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include "worker/model/tfjs_ops.h"

namespace tsdsr::model {
namespace {

// ---- References written from TensorFlow's definitions, on NHWC tensors with plain loops ----

// tf.nn.conv2d, stride 1, NHWC input, HWIO kernel; padding "same" (before = total / 2) or "valid".
at::Tensor ReferenceConv(const at::Tensor& x, const at::Tensor& k, const at::Tensor& bias, bool same) {
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), cin = x.size(3);
  const int64_t kh = k.size(0), kw = k.size(1), cout = k.size(3);
  const int64_t top = same ? (kh - 1) / 2 : 0, left = same ? (kw - 1) / 2 : 0;
  const int64_t oh = same ? h : h - kh + 1, ow = same ? w : w - kw + 1;
  at::Tensor out = at::zeros({n, oh, ow, cout});
  auto X = x.accessor<float, 4>();
  auto K = k.accessor<float, 4>();
  auto O = out.accessor<float, 4>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t xx = 0; xx < ow; ++xx)
        for (int64_t o = 0; o < cout; ++o) {
          double sum = bias.defined() ? bias[o].item<float>() : 0.0;
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j)
              for (int64_t c = 0; c < cin; ++c) {
                const int64_t sy = y + i - top, sx = xx + j - left;
                if (sy >= 0 && sy < h && sx >= 0 && sx < w) sum += X[b][sy][sx][c] * K[i][j][c][o];
              }
          O[b][y][xx][o] = static_cast<float>(sum);
        }
  return out;
}

// tf.nn.depth_to_space(x, block, "NHWC"): out[n, y·b + i, x·b + j, c] = in[n, y, x, (i·b + j)·C + c].
at::Tensor ReferenceDepthToSpace(const at::Tensor& x, int64_t b) {
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3) / (b * b);
  at::Tensor out = at::zeros({n, h * b, w * b, c});
  auto X = x.accessor<float, 4>();
  auto O = out.accessor<float, 4>();
  for (int64_t m = 0; m < n; ++m)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t j = 0; j < b; ++j)
            for (int64_t k = 0; k < c; ++k) O[m][y * b + i][xx * b + j][k] = X[m][y][xx][(i * b + j) * c + k];
  return out;
}

at::Tensor ToNhwc(const at::Tensor& nchw) { return nchw.permute({0, 2, 3, 1}).contiguous(); }
at::Tensor ToNchw(const at::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}).contiguous(); }

// ---- Ops ----

TEST(TfjsOpsTest, DepthToSpaceFollowsTensorFlowsChannelOrderNotTorchPixelShuffle) {
  // One pixel with 8 channels 0..7, block 2, so C = 2. TF: out[i, j, c] = in[(i·2 + j)·2 + c], i.e. by hand
  //   channel 0 = [[0, 2], [4, 6]], channel 1 = [[1, 3], [5, 7]].
  // torch::pixel_shuffle reads in[c·4 + i·2 + j]: channel 0 = [[0, 1], [2, 3]].
  const at::Tensor x = at::arange(8, at::kFloat).reshape({1, 8, 1, 1});
  const at::Tensor expected = at::tensor({0.f, 2.f, 4.f, 6.f, 1.f, 3.f, 5.f, 7.f}).reshape({1, 2, 2, 2});
  const at::Tensor out = DepthToSpace(x, 2);
  EXPECT_TRUE(out.equal(expected)) << out;
  EXPECT_FALSE(at::pixel_shuffle(x, 2).equal(expected));
}

TEST(TfjsOpsTest, DepthToSpaceMatchesTheReferenceOnLargerInputs) {
  for (int64_t block : {2, 3, 4}) {
    const at::Tensor nhwc = at::randn({2, 3, 5, 3 * block * block});
    const at::Tensor out = DepthToSpace(ToNchw(nhwc), block);
    EXPECT_TRUE(ToNhwc(out).equal(ReferenceDepthToSpace(nhwc, block))) << "block " << block;
    const at::Tensor channels_last = DepthToSpace(ToNchw(nhwc).contiguous(at::MemoryFormat::ChannelsLast), block);
    EXPECT_TRUE(channels_last.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(ToNhwc(channels_last).equal(ReferenceDepthToSpace(nhwc, block))) << "block " << block;
  }
}

TEST(TfjsOpsTest, UpsampleNearestRepeatsEachPixel) {
  const at::Tensor x = at::tensor({1.f, 2.f, 3.f, 4.f}).reshape({1, 1, 2, 2});
  const at::Tensor expected =
      at::tensor({1.f, 1.f, 1.f, 2.f, 2.f, 2.f, 3.f, 3.f, 3.f, 4.f, 4.f, 4.f}).reshape({1, 1, 2, 6});
  EXPECT_TRUE(UpsampleNearest(x, 1, 3).equal(expected));
  EXPECT_EQ(UpsampleNearest(x, 2, 2).sizes().vec(), (std::vector<int64_t>{1, 1, 4, 4}));
}

TEST(TfjsOpsTest, SamePaddingPutsTheOddPixelAfter) {
  EXPECT_EQ(SamePadding(3, 3, 1, 1), (std::array<int64_t, 4>{1, 1, 1, 1}));
  EXPECT_EQ(SamePadding(2, 4, 1, 1), (std::array<int64_t, 4>{1, 2, 0, 1}));
  EXPECT_EQ(SamePadding(5, 1, 2, 1), (std::array<int64_t, 4>{0, 0, 4, 4}));
}

TEST(TfjsOpsTest, NhwcAxesMapToNchw) {
  EXPECT_EQ(NchwAxis(-1), 1);
  EXPECT_EQ(NchwAxis(3), 1);
  EXPECT_EQ(NchwAxis(1), 2);
  EXPECT_EQ(NchwAxis(2), 3);
  EXPECT_EQ(NchwAxis(0), 0);
  EXPECT_THROW(NchwAxis(4), c10::Error);
}

// ---- Graphs ----

// A model.json topology around `layers` (a JSON array body), input "in" with `channels`, output `output`.
nlohmann::json Topology(const std::string& layers, const std::string& output, int channels = 2) {
  return nlohmann::json::parse(R"({"modelTopology": {"model_config": {"class_name": "Functional", "config": {
      "layers": [{"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
                  "config": {"name": "in", "batch_input_shape": [null, null, null, )" +
                               std::to_string(channels) + "]}}, " + layers + R"(],
      "input_layers": [["in", 0, 0]], "output_layers": [[")" +
                               output + R"(", 0, 0]]}}}})");
}

std::string Layer(const std::string& cls, const std::string& name, const std::string& config,
                  const std::vector<std::string>& inputs) {
  std::string in;
  for (const std::string& i : inputs) in += (in.empty() ? "" : ", ") + ("[\"" + i + "\", 0, 0, {}]");
  return R"({"class_name": ")" + cls + R"(", "name": ")" + name + R"(", "config": {"name": ")" + name + "\"" +
         (config.empty() ? "" : ", " + config) + "}, \"inbound_nodes\": [[" + in + "]]}";
}

Result<std::unique_ptr<TfjsGraph>> Build(const std::string& layers, const std::string& output,
                                         std::map<std::string, at::Tensor> weights) {
  auto model = ParseTfjsTopology(Topology(layers, output), "tiny.json");
  if (!model.ok()) return model.status();
  model->weights = std::move(weights);
  return TfjsGraph::Create(*model, at::TensorOptions().dtype(at::kFloat));
}

// Every layer type: in(2) → c1 3×3 same relu(4) → cat[in, c1](6) → c2 2×2 same, no bias (8) → × 0.5 → relu
// → depth_to_space 2 (2 channels, 2× size), plus in upsampled 2×2 → Add.
const std::string kEveryLayer =
    Layer("Conv2D", "c1", R"("filters": 4, "kernel_size": [3, 3], "padding": "same", "activation": "relu")", {"in"}) +
    "," + Layer("Concatenate", "cat", R"("axis": -1)", {"in", "c1"}) + "," +
    Layer("Conv2D", "c2", R"("filters": 8, "kernel_size": [2, 2], "padding": "same", "use_bias": false)", {"cat"}) +
    "," + Layer("MultiplyBeta", "beta", R"("beta": 0.5)", {"c2"}) + "," +
    Layer("Activation", "act", R"("activation": "relu")", {"beta"}) + "," +
    Layer("PixelShuffle2x", "shuffle", R"("scale": 2)", {"act"}) + "," +
    Layer("UpSampling2D", "up", R"("size": [2, 2], "interpolation": "nearest")", {"in"}) + "," +
    Layer("Add", "sum", "", {"shuffle", "up"});

std::map<std::string, at::Tensor> EveryLayerWeights() {
  at::manual_seed(7);
  return {{"c1/kernel", at::randn({3, 3, 2, 4})}, {"c1/bias", at::randn({4})}, {"c2/kernel", at::randn({2, 2, 6, 8})}};
}

TEST(TfjsGraphTest, RunsEveryLayerTypeLikeTensorFlow) {
  const auto weights = EveryLayerWeights();
  auto graph = Build(kEveryLayer, "sum", weights);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_EQ((*graph)->input_channels(), 2);
  EXPECT_EQ((*graph)->output_channels(), 2);
  const at::Tensor x = at::randn({2, 5, 4, 2});  // NHWC, odd height for the asymmetric "same" padding
  at::Tensor ref = ReferenceConv(x, weights.at("c1/kernel"), weights.at("c1/bias"), true).relu();
  ref = ReferenceConv(at::cat({x, ref}, 3), weights.at("c2/kernel"), at::Tensor(), true).mul(0.5).relu();
  ref = ReferenceDepthToSpace(ref, 2).add(x.repeat_interleave(2, 1).repeat_interleave(2, 2));
  const at::Tensor out = ToNhwc((*graph)->Run(ToNchw(x)));
  ASSERT_EQ(out.sizes(), ref.sizes());
  EXPECT_LT(out.sub(ref).abs().max().item<float>(), 1e-4);
}

// The x2..x8 models end in UpSampling2D → Conv2D, which the graph folds into one low-resolution convolution and a
// depth_to_space: the image must stay the one TensorFlow computes, for every block and kernel size, with and
// without a bias and activation.
TEST(TfjsGraphTest, AnUpsamplingFoldedIntoTheConvolutionAfterItGivesTheSameImage) {
  at::manual_seed(11);
  for (int64_t block : {1, 2, 3, 8}) {
    for (int64_t kernel : {1, 3, 5}) {
      const bool bias = kernel != 5;
      const std::string ks = std::to_string(kernel);
      const std::string layers =
          Layer("UpSampling2D", "up", R"("size": [)" + std::to_string(block) + ", " + std::to_string(block) + "]",
                {"in"}) +
          "," +
          Layer("Conv2D", "c",
                R"("filters": 3, "kernel_size": [)" + ks + ", " + ks + R"(], "padding": "same", "activation": ")" +
                    (bias ? "relu" : "linear") + R"(", "use_bias": )" + (bias ? "true" : "false"),
                {"up"});
      std::map<std::string, at::Tensor> weights = {{"c/kernel", at::randn({kernel, kernel, 2, 3})}};
      if (bias) weights["c/bias"] = at::randn({3});
      auto graph = Build(layers, "c", weights);
      ASSERT_TRUE(graph.ok()) << graph.status().message();
      EXPECT_EQ((*graph)->layer_count(), 2u) << "the upsampling is folded away";
      const at::Tensor x = at::randn({2, 3, 4, 2});
      const at::Tensor up = x.repeat_interleave(block, 1).repeat_interleave(block, 2);
      at::Tensor ref = ReferenceConv(up, weights.at("c/kernel"), bias ? weights.at("c/bias") : at::Tensor(), true);
      if (bias) ref = ref.relu();
      const at::Tensor out = ToNhwc((*graph)->Run(ToNchw(x)));
      ASSERT_EQ(out.sizes(), ref.sizes()) << "block " << block << ", kernel " << kernel;
      EXPECT_LT(out.sub(ref).abs().max().item<float>(), 1e-4) << "block " << block << ", kernel " << kernel;
    }
  }
}

// Layers that may work in place (relu, add, scale) must never do so on the tensor the caller passed in.
TEST(TfjsGraphTest, RunLeavesItsInputAlone) {
  const std::string layers = Layer("Activation", "act", R"("activation": "relu")", {"in"}) + "," +
                             Layer("MultiplyBeta", "beta", R"("beta": 0.5)", {"in"}) + "," +
                             Layer("Add", "sum", "", {"act", "beta"});
  auto graph = Build(layers, "sum", {});
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const at::Tensor x = at::randn({1, 2, 3, 3});
  const at::Tensor copy = x.clone();
  const at::Tensor out = (*graph)->Run(x);
  EXPECT_TRUE(x.equal(copy));
  EXPECT_TRUE(out.equal(copy.relu().add(copy.mul(0.5))));
}

TEST(TfjsGraphTest, ValidPaddingShrinksTheImage) {
  at::manual_seed(3);
  std::map<std::string, at::Tensor> weights = {{"v/kernel", at::randn({3, 3, 2, 1})}, {"v/bias", at::randn({1})}};
  auto graph =
      Build(Layer("Conv2D", "v", R"("filters": 1, "kernel_size": 3, "padding": "valid")", {"in"}), "v", weights);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const at::Tensor x = at::randn({1, 6, 7, 2});
  const at::Tensor out = ToNhwc((*graph)->Run(ToNchw(x)));
  const at::Tensor ref = ReferenceConv(x, weights.at("v/kernel"), weights.at("v/bias"), false);
  ASSERT_EQ(out.sizes().vec(), (std::vector<int64_t>{1, 4, 5, 1}));
  EXPECT_LT(out.sub(ref).abs().max().item<float>(), 1e-4);
}

// Builds `layers` and expects InvalidArgument whose message holds each of `parts`.
void ExpectBuildError(const std::string& layers, const std::string& output, std::map<std::string, at::Tensor> w,
                      const std::vector<std::string>& parts) {
  auto graph = Build(layers, output, std::move(w));
  ASSERT_EQ(graph.status().code(), StatusCode::kInvalidArgument) << layers;
  for (const std::string& part : parts) {
    EXPECT_NE(graph.status().message().find(part), std::string::npos) << graph.status().message();
  }
}

TEST(TfjsGraphTest, AnUnknownLayerTypeIsAnErrorNamingIt) {
  ExpectBuildError(Layer("Lambda", "mystery", R"("function": "x")", {"in"}), "mystery", {},
                   {"tiny.json", "layer 'mystery'", "layer type 'Lambda' is not supported", "Conv2D"});
}

TEST(TfjsGraphTest, MisshapedMissingAndUnusedWeightsAreErrors) {
  const std::string conv = Layer("Conv2D", "c", R"("filters": 4, "kernel_size": [3, 3], "padding": "same")", {"in"});
  ExpectBuildError(conv, "c", {{"c/kernel", at::zeros({3, 3, 2, 5})}, {"c/bias", at::zeros({4})}},
                   {"layer 'c'", "weight 'c/kernel' has shape [3, 3, 2, 5], the layer needs [3, 3, 2, 4]"});
  ExpectBuildError(conv, "c", {{"c/kernel", at::zeros({3, 3, 2, 4})}}, {"weight 'c/bias' is not in the"});
  ExpectBuildError(conv, "c",
                   {{"c/kernel", at::zeros({3, 3, 2, 4})}, {"c/bias", at::zeros({4})}, {"d/bias", at::zeros({1})}},
                   {"1 weight(s) belong to no layer: d/bias"});
}

TEST(TfjsGraphTest, ChannelCountsThatDoNotFitAreErrors) {
  // The concatenation has 4 channels; a kernel made for 3 does not fit.
  const std::string layers = Layer("Concatenate", "cat", R"("axis": 3)", {"in", "in"}) + "," +
                             Layer("Conv2D", "c", R"("filters": 1, "kernel_size": [1, 1], "use_bias": false)", {"cat"});
  ExpectBuildError(layers, "c", {{"c/kernel", at::zeros({1, 1, 3, 1})}}, {"the layer needs [1, 1, 4, 1]"});
  ExpectBuildError(Layer("PixelShuffle3x", "ps", R"("scale": 3)", {"in"}), "ps", {},
                   {"2 channels do not split into 3×3 blocks"});
  ExpectBuildError(Layer("Add", "a", "", {"in", "c"}) + "," +
                       Layer("Conv2D", "c", R"("filters": 3, "kernel_size": [1, 1], "use_bias": false)", {"in"}),
                   "a", {{"c/kernel", at::zeros({1, 1, 2, 3})}}, {"adds inputs with different channel counts"});
}

TEST(TfjsGraphTest, UnsupportedSettingsAndCyclesAreErrors) {
  ExpectBuildError(Layer("Conv2D", "c", R"("filters": 1, "kernel_size": [1, 1], "strides": [2, 2])", {"in"}), "c", {},
                   {"only stride 1"});
  ExpectBuildError(Layer("Activation", "a", R"("activation": "softmax")", {"in"}), "a", {},
                   {"activation 'softmax' is not supported"});
  ExpectBuildError(Layer("UpSampling2D", "u", R"("size": [2, 2], "interpolation": "bilinear")", {"in"}), "u", {},
                   {"interpolation 'bilinear'"});
  ExpectBuildError(Layer("Add", "a", "", {"in", "b"}) + "," + Layer("Add", "b", "", {"a"}), "b", {},
                   {"is part of a cycle"});
}

TEST(TfjsGraphTest, RunRefusesTheWrongNumberOfChannels) {
  auto graph = Build(kEveryLayer, "sum", EveryLayerWeights());
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  EXPECT_THROW((*graph)->Run(at::zeros({1, 3, 4, 4})), c10::Error);
}

}  // namespace
}  // namespace tsdsr::model

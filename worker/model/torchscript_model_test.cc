// TorchscriptModel on tiny TorchScript files built in C++ (torchscript_model_fixtures.h): outputs equal the same
// computation done with ATen ops, and the probe refuses wrong models with what came out.
#include "worker/model/torchscript_model.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <torch/script.h>

#include "worker/model/tfjs_test_files.h"
#include "worker/model/torchscript_model_fixtures.h"

namespace tsdsr::model {
namespace {

using testing::TempDir;

class TorchscriptModelTest : public ::testing::Test {
 protected:
  // Saves `module` as dir_/name and returns the path.
  std::string Save(const torch::jit::Module& module, const std::string& name) {
    std::string path = dir_.path() + "/" + name;
    module.save(path);
    return path;
  }
  // Saves `module` and loads it back for `scale` on the CPU in float32.
  Result<std::unique_ptr<TorchscriptModel>> SaveAndLoad(const torch::jit::Module& module, int scale) {
    return TorchscriptModel::Create(Save(module, "model.pt"), scale, c10::kCPU, at::kFloat);
  }
  // The probe's message for `module` loaded at `scale`, after "torchscript model PATH ".
  std::string Refusal(const torch::jit::Module& module, int scale) {
    auto model = SaveAndLoad(module, scale);
    if (model.ok()) return "(loaded)";
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    const std::string prefix = "torchscript model " + dir_.path() + "/model.pt ";
    const std::string message = model.status().message();
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
    return message.substr(std::min(prefix.size(), message.size()));
  }

  TempDir dir_;
};

float MaxDiff(const at::Tensor& a, const at::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return a.sizes() == b.sizes() ? a.sub(b).abs().max().item<float>() : 1e9f;
}

TEST_F(TorchscriptModelTest, NearestConvMatchesAtenOps) {
  auto model = TorchscriptModel::Create(Save(testing::NearestConvModel(2), "nearest.pt"), 2, c10::kCPU, at::kFloat);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->name(), "torchscript:nearest.pt");
  EXPECT_EQ((*model)->scales(), std::vector<int>{2});
  EXPECT_EQ((*model)->dtype(), at::kFloat);
  EXPECT_EQ((*model)->device(), c10::Device(c10::kCPU));
  EXPECT_EQ((*model)->input_multiple(), 1);
  c10::InferenceMode inference;
  for (const auto& shape : {std::vector<int64_t>{2, 3, 5, 7}, {1, 3, 1, 1}, {3, 3, 64, 48}}) {
    const at::Tensor x = torch::rand(shape);
    EXPECT_LE(MaxDiff((*model)->Forward(x, 2), testing::NearestConvReference(x, 2)), 1e-6f) << x.sizes();
  }
}

TEST_F(TorchscriptModelTest, PixelShuffleTimesThree) {
  auto model = SaveAndLoad(testing::PixelShuffleModel(3), 3);
  ASSERT_TRUE(model.ok()) << model.status().message();
  c10::InferenceMode inference;
  const at::Tensor x = torch::rand({2, 3, 9, 13});
  const at::Tensor want = at::pixel_shuffle(at::conv2d(x, testing::PixelShuffleWeight(3), torch::full({27}, 0.5)), 3);
  EXPECT_LE(MaxDiff((*model)->Forward(x, 3), want), 1e-6f);
}

TEST_F(TorchscriptModelTest, WeightsSavedInFloat64RunInFloat32) {
  auto model = SaveAndLoad(testing::NearestConvModel(2, at::kDouble), 2);
  ASSERT_TRUE(model.ok()) << model.status().message();
  c10::InferenceMode inference;
  const at::Tensor x = torch::rand({1, 3, 6, 5});
  const at::Tensor y = (*model)->Forward(x, 2);
  EXPECT_EQ(y.scalar_type(), at::kFloat);
  EXPECT_LE(MaxDiff(y, testing::NearestConvReference(x, 2)), 1e-6f);
}

TEST_F(TorchscriptModelTest, PadsToTheMultipleTheModelNeeds) {
  for (int multiple : {2, 4, 8}) {
    SCOPED_TRACE(multiple);
    auto model = SaveAndLoad(testing::MultipleOfModel(multiple), 2);
    ASSERT_TRUE(model.ok()) << model.status().message();
    EXPECT_EQ((*model)->input_multiple(), multiple);
    c10::InferenceMode inference;
    for (const auto& shape : {std::vector<int64_t>{1, 3, 17, 23}, {2, 3, 1, 1}, {1, 3, 16, 9}}) {
      const at::Tensor x = torch::rand(shape);
      const at::Tensor want = at::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
      EXPECT_LE(MaxDiff((*model)->Forward(x, 2), want), 0.0f) << x.sizes();
    }
  }
}

TEST_F(TorchscriptModelTest, ProbeRefusesAWrongScale) {
  EXPECT_EQ(Refusal(testing::NearestConvModel(2), 4), "turns 1x3x16x16 into 1x3x32x32, not 4x (--model-scale 4)");
  EXPECT_EQ(Refusal(testing::PixelShuffleModel(3), 2), "turns 1x3x16x16 into 1x3x48x48, not 2x (--model-scale 2)");
}

TEST_F(TorchscriptModelTest, ProbeRefusesWrongOutputs) {
  EXPECT_EQ(Refusal(testing::OneChannelModel(), 2), "turns 1x3x16x16 into 1x1x32x32, not an RGB image (3 channels)");
  EXPECT_EQ(Refusal(testing::TupleModel(), 2), "returns a Tuple for a 1x3x16x16 input, not one tensor");
  EXPECT_EQ(Refusal(testing::ModelWithForward("    return x[0]\n"), 1),
            "turns 1x3x16x16 into 3x16x16, not a 4-D (N, 3, H, W) batch");
}

TEST_F(TorchscriptModelTest, ProbeRefusesAModelThatThrows) {
  const std::string refusal = Refusal(testing::ThrowingModel(), 2);
  EXPECT_EQ(refusal.rfind("fails on a 1x3x16x16 input: ", 0), 0u) << refusal;
  EXPECT_NE(refusal.find("this model always fails"), std::string::npos) << refusal;
  EXPECT_EQ(refusal.find('\n'), std::string::npos) << "one line, no backtrace: " << refusal;
}

TEST_F(TorchscriptModelTest, ProbeRefusesAModelThatRunsAtOneSizeOnly) {
  const std::string refusal = Refusal(testing::FixedSizeModel(), 2);
  EXPECT_EQ(refusal.rfind("runs on a 1x3x16x16 input but on no other size tried", 0), 0u) << refusal;
  EXPECT_NE(refusal.find("it fails on a 1x3x32x48 input: "), std::string::npos) << refusal;
}

TEST_F(TorchscriptModelTest, ForwardErrorsAreOneLine) {
  auto model = SaveAndLoad(testing::ModelWithForward("    assert x.size(0) == 1, 'one image at a time'\n"
                                                     "    return torch.upsample_nearest2d(x, None, [2.0, 2.0])\n"),
                           2);
  ASSERT_TRUE(model.ok()) << model.status().message();
  c10::InferenceMode inference;
  try {
    (*model)->Forward(torch::rand({2, 3, 4, 4}), 2);
    ADD_FAILURE() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_EQ(std::string(e.what_without_backtrace()),
              "torchscript:model.pt failed on [2, 3, 4, 4]: RuntimeError: AssertionError: one image at a time");
  }
}

TEST_F(TorchscriptModelTest, RefusesFilesThatAreNotTorchScriptModels) {
  const std::string missing = dir_.path() + "/missing.pt";
  auto model = TorchscriptModel::Create(missing, 2, c10::kCPU, at::kFloat);
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(model.status().message(), "torchscript model " + missing + " does not exist");

  model = TorchscriptModel::Create(dir_.path(), 2, c10::kCPU, at::kFloat);
  EXPECT_EQ(model.status().message(), "torchscript model " + dir_.path() + " is not a file");

  dir_.WriteText("text.pt", "not a model\n");
  const std::vector<char> pickled = torch::jit::pickle_save(c10::IValue(torch::ones({2})));  // as torch.save
  std::ofstream(dir_.path() + "/state.pt", std::ios::binary)
      .write(pickled.data(), static_cast<std::streamsize>(pickled.size()));
  for (const std::string name : {"text.pt", "state.pt"}) {
    const std::string path = dir_.path() + "/" + name;
    model = TorchscriptModel::Create(path, 2, c10::kCPU, at::kFloat);
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    const std::string message = model.status().message();
    EXPECT_EQ(message.rfind("torchscript model " + path + " cannot be loaded as TorchScript: ", 0), 0u) << message;
    EXPECT_NE(message.find("save the model with torch.jit.save"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_EQ(Refusal(testing::NoForwardModel(), 2), "has no forward() method");
}

TEST_F(TorchscriptModelTest, RefusesBadArguments) {
  const std::string path = Save(testing::NearestConvModel(2), "model.pt");
  for (int scale : {0, 17}) {
    EXPECT_EQ(TorchscriptModel::Create(path, scale, c10::kCPU, at::kFloat).status().code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(TorchscriptModel::Create(path, 2, c10::kCPU, at::kInt).status().code(), StatusCode::kInvalidArgument);
  auto model = TorchscriptModel::Create(path, 2, c10::kCPU, at::kFloat);
  ASSERT_TRUE(model.ok()) << model.status().message();
  c10::InferenceMode inference;
  EXPECT_THROW((*model)->Forward(torch::rand({1, 3, 4, 4}), 4), c10::Error);
  EXPECT_THROW((*model)->Forward(torch::rand({1, 1, 4, 4}), 2), c10::Error);
}

}  // namespace
}  // namespace tsdsr::model

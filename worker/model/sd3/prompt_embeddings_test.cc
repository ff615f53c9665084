#include "worker/model/sd3/prompt_embeddings.h"

#include <fstream>

#include <ATen/ops/allclose.h>
#include <ATen/ops/arange.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

namespace tsdsr::model::sd3 {
namespace {

const std::string kEmbeddings = std::string(TSDSR_SD3_TESTDATA) + "/embeddings";

void WriteBytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The fixtures were written by Python's torch.save (tools/make_parity_fixtures.py); their values are also in
// the transformer parity file, so only shapes and finiteness are checked here.
TEST(PromptEmbeddingsTest, ReadsFilesSavedByPythonsTorchSave) {
  auto embeddings = ReadPromptEmbeddings(kEmbeddings, 32, 32);
  ASSERT_TRUE(embeddings.ok()) << embeddings.status().message();
  EXPECT_EQ(embeddings->prompt.sizes().vec(), (std::vector<int64_t>{1, 5, 32}));
  EXPECT_EQ(embeddings->pooled.sizes().vec(), (std::vector<int64_t>{1, 32}));
  EXPECT_EQ(embeddings->prompt.scalar_type(), c10::kFloat);
  EXPECT_TRUE(embeddings->prompt.isfinite().all().item<bool>());
}

TEST(PromptEmbeddingsTest, RoundTripsAHalfPrecisionTensorAsFloat) {
  const at::Tensor saved = at::arange(12, c10::kFloat).reshape({1, 3, 4}).div(8).to(c10::kHalf);
  const std::string path = ::testing::TempDir() + "/half.pt";
  WriteBytes(path, torch::jit::pickle_save(saved));
  auto read = ReadTorchSavedTensor(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->scalar_type(), c10::kFloat);
  EXPECT_TRUE(at::allclose(*read, saved.to(c10::kFloat)));
}

TEST(PromptEmbeddingsTest, WrongShapesNameTheFileAndBothShapes) {
  auto narrow = ReadPromptEmbeddings(kEmbeddings, 4096, 32);
  ASSERT_EQ(narrow.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(narrow.status().message().find("prompt_embeds.pt holds a tensor of shape [1, 5, 32]; the transformer "
                                           "needs (1, N, 4096)"),
            std::string::npos)
      << narrow.status().message();
  auto pooled = ReadPromptEmbeddings(kEmbeddings, 32, 2048);
  EXPECT_NE(pooled.status().message().find("pool_embeds.pt holds a tensor of shape [1, 32]"), std::string::npos);
}

TEST(PromptEmbeddingsTest, MissingAndForeignFilesAreRefused) {
  auto missing = ReadPromptEmbeddings("/nonexistent", 32, 32);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/prompt_embeds.pt"), std::string::npos);

  const std::string text = ::testing::TempDir() + "/text.pt";
  std::ofstream(text) << "not a zip archive";
  EXPECT_EQ(ReadTorchSavedTensor(text).status().code(), StatusCode::kInvalidArgument);

  const std::string tuple_path = ::testing::TempDir() + "/tuple.pt";
  WriteBytes(tuple_path, torch::jit::pickle_save(c10::ivalue::Tuple::create({at::arange(3, c10::kFloat), 1.0})));
  auto not_tensor = ReadTorchSavedTensor(tuple_path);
  ASSERT_EQ(not_tensor.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(not_tensor.status().message().find("holds a Tuple, not one tensor"), std::string::npos)
      << not_tensor.status().message();
}

}  // namespace
}  // namespace tsdsr::model::sd3

#include "worker/model/multi_scale_model.h"

#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

// Answers every tile with a constant: its `mark`, so a test sees which model ran.
class MarkModel : public TileModel {
 public:
  MarkModel(std::string name, std::vector<int> scales, float mark, c10::ScalarType dtype = c10::ScalarType::Float)
      : name_(std::move(name)), scales_(std::move(scales)), mark_(mark), dtype_(dtype) {}
  at::Tensor Forward(const at::Tensor& batch, int scale) override {
    return at::full({batch.size(0), 3, batch.size(2) * scale, batch.size(3) * scale}, mark_);
  }
  const std::vector<int>& scales() const override { return scales_; }
  const std::string& name() const override { return name_; }
  c10::ScalarType dtype() const override { return dtype_; }
  c10::Device device() const override { return c10::Device(c10::DeviceType::CPU); }

 private:
  std::string name_;
  std::vector<int> scales_;
  float mark_;
  c10::ScalarType dtype_;
};

std::vector<std::unique_ptr<TileModel>> Models(std::unique_ptr<TileModel> a, std::unique_ptr<TileModel> b) {
  std::vector<std::unique_ptr<TileModel>> models;
  models.push_back(std::move(a));
  models.push_back(std::move(b));
  return models;
}

TEST(MultiScaleModelTest, TheScalePicksTheModel) {
  auto model = MultiScaleModel::Create(Models(std::make_unique<MarkModel>("x4", std::vector<int>{4}, 4.0f),
                                              std::make_unique<MarkModel>("x2x3", std::vector<int>{2, 3}, 2.0f)));
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->name(), "x2x3+x4");
  EXPECT_EQ((*model)->scales(), (std::vector<int>{2, 3, 4}));
  const at::Tensor tile = at::zeros({2, 3, 5, 7});
  EXPECT_EQ((*model)->Forward(tile, 4).sizes(), (std::vector<int64_t>{2, 3, 20, 28}));
  EXPECT_EQ((*model)->Forward(tile, 4).max().item<float>(), 4.0f);
  EXPECT_EQ((*model)->Forward(tile, 3).max().item<float>(), 2.0f);
  EXPECT_EQ((*model)->Forward(tile, 2).max().item<float>(), 2.0f);
  EXPECT_THROW((*model)->Forward(tile, 8), c10::Error);
}

TEST(MultiScaleModelTest, RefusesModelsThatCannotShareTiles) {
  auto same_scale = MultiScaleModel::Create(Models(std::make_unique<MarkModel>("a", std::vector<int>{2}, 0.0f),
                                                   std::make_unique<MarkModel>("b", std::vector<int>{2, 4}, 0.0f)));
  EXPECT_NE(same_scale.status().message().find("two models offer upscale 2 (b is one)"), std::string::npos);
  auto dtypes = MultiScaleModel::Create(
      Models(std::make_unique<MarkModel>("a", std::vector<int>{2}, 0.0f),
             std::make_unique<MarkModel>("b", std::vector<int>{4}, 0.0f, c10::ScalarType::Half)));
  EXPECT_NE(dtypes.status().message().find("another device or dtype"), std::string::npos);
  std::vector<std::unique_ptr<TileModel>> one;
  one.push_back(std::make_unique<MarkModel>("a", std::vector<int>{2}, 0.0f));
  EXPECT_FALSE(MultiScaleModel::Create(std::move(one)).ok());
  EXPECT_FALSE(MultiScaleModel::Create(Models(std::make_unique<MarkModel>("a", std::vector<int>{2}, 0.0f), nullptr)).ok());
}

}  // namespace
}  // namespace tsdsr::model

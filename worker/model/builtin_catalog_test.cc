#include "worker/model/builtin_catalog.h"

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tsdsr::model {
namespace {

TEST(BuiltinCatalogTest, NamesAreUniqueAndEachOffersOneScale) {
  std::set<std::string_view> names;
  for (const BuiltinModelInfo& info : BuiltinModels()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_TRUE(info.scale == 2 || info.scale == 3 || info.scale == 4 || info.scale == 8) << info.name;
    EXPECT_TRUE(info.pixel_range == 1 || info.pixel_range == 255) << info.name;
  }
  EXPECT_EQ(FindBuiltinModel("thick-x4")->scale, 4);
  EXPECT_EQ(FindBuiltinModel("psnr-small")->package, "esrgan-legacy");
  EXPECT_EQ(FindBuiltinModel("psnr-small")->pixel_range, 1);  // idealo's weights want [0, 1]
}

TEST(BuiltinCatalogTest, AnUnknownNameListsTheKnownOnes) {
  auto info = FindBuiltinModel("thick-x5");
  ASSERT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(info.status().message().find("'thick-x5'"), std::string::npos);
  EXPECT_NE(info.status().message().find("psnr-small, thick-x2, thick-x3, thick-x4, thick-x8"), std::string::npos)
      << info.status().message();
}

std::vector<std::string_view> Names(const Result<std::vector<BuiltinModelInfo>>& models) {
  std::vector<std::string_view> names;
  for (const BuiltinModelInfo& info : *models) names.push_back(info.name);
  return names;
}

TEST(BuiltinCatalogTest, SpecsExpandToModelsInScaleOrder) {
  using Names_ = std::vector<std::string_view>;
  EXPECT_EQ(Names(ExpandBuiltinSpec("thick-x4")), Names_({"thick-x4"}));
  EXPECT_EQ(Names(ExpandBuiltinSpec("thick-x8+slim-x3+psnr-small")), Names_({"psnr-small", "slim-x3", "thick-x8"}));
  auto best = ExpandBuiltinSpec(kBestBuiltinSpec);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->size(), BestBuiltinModels().size());
  std::set<int> scales;
  for (const BuiltinModelInfo& info : *best) scales.insert(info.scale);
  EXPECT_TRUE(scales.count(2) && scales.count(4)) << "the service's scales must be served by default";
}

TEST(BuiltinCatalogTest, BadSpecsAreRefusedWithTheReason) {
  EXPECT_NE(ExpandBuiltinSpec("thick-x2+psnr-small").status().message().find("both upscale by 2"),
            std::string::npos);
  EXPECT_NE(ExpandBuiltinSpec("thick-x4+").status().message().find("unknown built-in model ''"), std::string::npos);
  EXPECT_NE(ExpandBuiltinSpec("thick-x4+thick-x4").status().message().find("both upscale by 4"), std::string::npos);
  EXPECT_FALSE(ExpandBuiltinSpec("Best").ok());
}

TEST(BuiltinCatalogTest, ModelFoldersFollowNpmsLayout) {
  EXPECT_EQ(BuiltinModelDir("/m", *FindBuiltinModel("thick-x8")),
            "/m/npm/node_modules/@upscalerjs/esrgan-thick/models/x8");
  EXPECT_EQ(BuiltinModelDir("/m", *FindBuiltinModel("psnr-small")),
            "/m/npm/node_modules/@upscalerjs/esrgan-legacy/models/psnr-small");
}

TEST(BuiltinCatalogTest, ModelsDirIsTheFlagThenTheEnvironmentThenBesideTheBinary) {
  const char* saved = std::getenv("TSDSR_MODELS_DIR");
  const std::string restore = saved ? saved : "";
  setenv("TSDSR_MODELS_DIR", "/from/env", 1);
  EXPECT_EQ(ResolveModelsDir("/from/flag"), "/from/flag");
  EXPECT_EQ(ResolveModelsDir(""), "/from/env");
  unsetenv("TSDSR_MODELS_DIR");
  // This test binary is BUILD/tests/tsdsr_model_test, so BUILD/tests/../../models: the folder that holds BUILD.
  const std::string beside = ResolveModelsDir("");
  EXPECT_EQ(beside.substr(beside.size() - 7), "/models") << beside;
  EXPECT_EQ(beside.find(".."), std::string::npos) << beside;
  if (saved) setenv("TSDSR_MODELS_DIR", restore.c_str(), 1);
}

}  // namespace
}  // namespace tsdsr::model

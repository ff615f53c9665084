#include "common/model_spec.h"

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

TEST(ModelSpecTest, SplitsKindAndArgument) {
  auto bicubic = ParseModelSpec("bicubic");
  ASSERT_TRUE(bicubic.ok());
  EXPECT_EQ(bicubic->kind, "bicubic");
  EXPECT_EQ(bicubic->argument, "");
  auto builtin = ParseModelSpec("builtin:thick-x4");
  ASSERT_TRUE(builtin.ok());
  EXPECT_EQ(builtin->kind, "builtin");
  EXPECT_EQ(builtin->argument, "thick-x4");
  auto simulated = ParseModelSpec("simulated:a:b");  // only the first ':' splits
  ASSERT_TRUE(simulated.ok());
  EXPECT_EQ(simulated->argument, "a:b");
}

TEST(ModelSpecTest, RefusesWhatItCannotBuild) {
  EXPECT_NE(ParseModelSpec("magic").status().message().find("unknown model 'magic'; use one of: bicubic"),
            std::string::npos);
  EXPECT_NE(ParseModelSpec("builtin").status().message().find("needs an argument"), std::string::npos);
  EXPECT_NE(ParseModelSpec("builtin:").status().message().find("needs an argument"), std::string::npos);
  EXPECT_NE(ParseModelSpec("bicubic:x").status().message().find("takes no argument"), std::string::npos);
  EXPECT_FALSE(ParseModelSpec("").ok());
}

TEST(ModelSpecTest, ColorFixes) {
  for (const char* name : {"none", "wavelet", "adain"}) EXPECT_TRUE(IsColorFix(name)) << name;
  for (const char* name : {"", "Wavelet", "histogram"}) EXPECT_FALSE(IsColorFix(name)) << name;
}

TEST(ModelSpecTest, ModelFlagsTogether) {
  EXPECT_TRUE(ValidateModelFlags("bicubic", 0, "none").ok());
  EXPECT_TRUE(ValidateModelFlags("builtin:psnr-small", 0, "wavelet").ok());
  EXPECT_EQ(ValidateModelFlags("magic", 0, "none").message().rfind("--model: unknown model", 0), 0u);
  EXPECT_NE(ValidateModelFlags("bicubic", 2, "none").message().find("applies only to torchscript:PATH"),
            std::string::npos);
  EXPECT_EQ(ValidateModelFlags("lanczos", 0, "sepia").message(), "--color-fix must be none, wavelet or adain");
}

}  // namespace
}  // namespace tsdsr

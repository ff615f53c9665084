#include "common/model_spec.h"

#include <utility>

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

Status Check(std::string spec, int model_scale, std::string color_fix, std::string lora_dir = "",
             std::string embeddings_dir = "", std::string dtype = "auto") {
  return ValidateModelFlags(ModelFlags{std::move(spec), model_scale, std::move(color_fix), std::move(lora_dir),
                                       std::move(embeddings_dir), std::move(dtype), -1});
}

TEST(ModelSpecTest, SplitsKindAndArgument) {
  auto bicubic = ParseModelSpec("bicubic");
  ASSERT_TRUE(bicubic.ok());
  EXPECT_EQ(bicubic->kind, "bicubic");
  EXPECT_EQ(bicubic->argument, "");
  auto builtin = ParseModelSpec("builtin:thick-x4");
  ASSERT_TRUE(builtin.ok());
  EXPECT_EQ(builtin->kind, "builtin");
  EXPECT_EQ(builtin->argument, "thick-x4");
  auto torchscript = ParseModelSpec("torchscript:/models/x4.pt");
  ASSERT_TRUE(torchscript.ok());
  EXPECT_EQ(torchscript->kind, "torchscript");
  EXPECT_EQ(torchscript->argument, "/models/x4.pt");
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
  EXPECT_NE(ParseModelSpec("torchscript:").status().message().find("needs an argument"), std::string::npos);
  EXPECT_NE(ParseModelSpec("magic").status().message().find("torchscript:PATH"), std::string::npos);
  EXPECT_FALSE(ParseModelSpec("").ok());
}

TEST(ModelSpecTest, ColorFixes) {
  for (const char* name : {"auto", "none", "wavelet", "adain"}) EXPECT_TRUE(IsColorFix(name)) << name;
  EXPECT_EQ(DefaultColorFix("tsdsr"), "wavelet");
  EXPECT_EQ(DefaultColorFix("builtin"), "wavelet");
  EXPECT_EQ(DefaultColorFix("torchscript"), "none");
  EXPECT_EQ(DefaultColorFix("bicubic"), "none");
  for (const char* name : {"", "Wavelet", "histogram"}) EXPECT_FALSE(IsColorFix(name)) << name;
}

TEST(ModelSpecTest, ModelFlagsTogether) {
  EXPECT_TRUE(Check("bicubic", 0, "none").ok());
  EXPECT_TRUE(Check("builtin:psnr-small", 0, "wavelet").ok());
  EXPECT_EQ(Check("magic", 0, "none").message().rfind("--model: unknown model", 0), 0u);
  EXPECT_NE(Check("bicubic", 2, "none").message().find("applies only to torchscript:PATH"),
            std::string::npos);
  EXPECT_EQ(Check("lanczos", 0, "sepia").message(), "--color-fix must be auto, none, wavelet or adain");
}

TEST(ModelSpecTest, TorchscriptNeedsModelScale) {
  EXPECT_TRUE(Check("torchscript:/m.pt", 4, "none").ok());
  EXPECT_TRUE(Check("torchscript:/m.pt", 1, "wavelet").ok());
  EXPECT_TRUE(Check("torchscript:/m.pt", 16, "none").ok());
  for (int scale : {0, -2, 17}) {
    const std::string message = Check("torchscript:/m.pt", scale, "none").message();
    EXPECT_EQ(message.rfind("--model-scale must be within 1..16", 0), 0u) << scale << ": " << message;
  }
}

TEST(ModelSpecTest, Dtypes) {
  for (const char* dtype : {"auto", "float32", "float16", "bfloat16"}) {
    EXPECT_TRUE(Check("builtin:best", 0, "auto", "", "", dtype).ok()) << dtype;
  }
  EXPECT_EQ(Check("builtin:best", 0, "auto", "", "", "fp16").message(),
            "--dtype must be auto, float32, float16 or bfloat16");
}

TEST(ModelSpecTest, TsdsrNeedsItsLoraAndEmbeddings) {
  EXPECT_TRUE(Check("tsdsr:/sd3", 0, "auto", "/lora", "/emb").ok());
  EXPECT_EQ(Check("tsdsr:/sd3", 0, "auto", "", "/emb").message(),
            "--lora-dir is required with tsdsr:SD3_DIR");
  EXPECT_EQ(Check("tsdsr:/sd3", 0, "auto", "/lora", "").message(),
            "--embeddings-dir is required with tsdsr:SD3_DIR");
  EXPECT_EQ(Check("bicubic", 0, "auto", "/lora", "").message(),
            "--lora-dir applies only to tsdsr:SD3_DIR models, not 'bicubic'");
  EXPECT_NE(Check("tsdsr:/sd3", 2, "auto", "/lora", "/emb").message().find("--model-scale applies"),
            std::string::npos);
  ModelFlags sampled{"tsdsr:/sd3", 0, "auto", "/lora", "/emb", "auto", 42};
  EXPECT_TRUE(ValidateModelFlags(sampled).ok());
  sampled.latent_seed = -2;
  EXPECT_EQ(ValidateModelFlags(sampled).message(), "--latent-seed must be -1 (the posterior mean) or a seed ≥ 0");
  ModelFlags builtin{"builtin:best", 0, "auto", "", "", "auto", 42};
  EXPECT_EQ(ValidateModelFlags(builtin).message(), "--latent-seed applies only to tsdsr:SD3_DIR models, not 'builtin:best'");
}

}  // namespace
}  // namespace tsdsr

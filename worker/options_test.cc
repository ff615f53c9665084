#include "worker/options.h"

#include <gtest/gtest.h>

namespace tsdsr::worker {
namespace {

WorkerCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tsdsr-worker");
  return ParseWorkerCommandLine(args);
}

std::string Check(std::vector<std::string> args) { return ValidateWorkerOptions(Parse(std::move(args)).options).message(); }

TEST(WorkerOptionsTest, DefaultsServeTheBestBuiltInModelsOnTheCpu) {
  auto line = Parse({});
  ASSERT_FALSE(line.outcome.exit);
  EXPECT_EQ(line.options.model, "builtin:best");
  EXPECT_EQ(line.options.device, "cpu");
  EXPECT_EQ(line.options.color_fix, "auto");
  EXPECT_EQ(line.options.model_scale, 0);
  EXPECT_TRUE(ValidateWorkerOptions(line.options).ok());
}

TEST(WorkerOptionsTest, InvalidValuesSayWhatIsAllowed) {
  EXPECT_EQ(Check({"--connect", "udp://x"}), "--connect must be a tcp:// or ipc:// address, e.g. tcp://127.0.0.1:5555");
  EXPECT_NE(Check({"--model", "magic"}).find("--model: unknown model 'magic'"), std::string::npos);
  EXPECT_NE(Check({"--model", "bicubic", "--model-scale", "2"}).find("applies only to torchscript"), std::string::npos);
  EXPECT_EQ(Check({"--color-fix", "sepia"}), "--color-fix must be auto, none, wavelet or adain");
  EXPECT_EQ(Check({"--slots", "0"}), "--slots must be within 1..16");
  EXPECT_EQ(Check({"--tile-batch", "65"}), "--tile-batch must be within 1..64");
}

// config/worker.toml, the example the README points to, is read and valid.
TEST(WorkerOptionsTest, TheExampleConfigIsValid) {
  const std::string source = __FILE__;  // <repo>/worker/options_test.cc
  const std::string example = source.substr(0, source.rfind("/worker/")) + "/config/worker.toml";
  auto line = Parse({"--config", example});
  ASSERT_FALSE(line.outcome.exit) << line.outcome.output;
  EXPECT_EQ(line.options.device, "cuda:0");
  EXPECT_TRUE(ValidateWorkerOptions(line.options).ok()) << ValidateWorkerOptions(line.options).message();
}

}  // namespace
}  // namespace tsdsr::worker

#include "dispatcher/options.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

DispatcherCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tsdsr-dispatcher");
  return ParseDispatcherCommandLine(args);
}

TEST(DispatcherOptionsTest, DefaultsMatchThePythonServer) {
  auto line = Parse({});
  ASSERT_FALSE(line.outcome.exit);
  EXPECT_EQ(line.options.host, "127.0.0.1");
  EXPECT_EQ(line.options.port, 8090);
  EXPECT_EQ(line.options.upscale, 2);
  EXPECT_EQ(line.options.process_size, 128);
  EXPECT_TRUE(ValidateDispatcherOptions(line.options).ok());
}

TEST(DispatcherOptionsTest, FlagsAndHelp) {
  auto line = Parse({"--port", "9000", "--upscale", "4", "--process-size", "64", "--workers", "2"});
  ASSERT_FALSE(line.outcome.exit) << line.outcome.output;
  EXPECT_EQ(line.options.port, 9000);
  EXPECT_EQ(line.options.upscale, 4);
  EXPECT_EQ(line.options.workers, 2);
  auto help = Parse({"--help"});
  EXPECT_TRUE(help.outcome.exit);
  EXPECT_EQ(help.outcome.exit_code, 0);
  EXPECT_NE(help.outcome.output.find("--process-size"), std::string::npos);
  auto bad = Parse({"--port", "eighty"});
  EXPECT_TRUE(bad.outcome.exit);
  EXPECT_EQ(bad.outcome.exit_code, 2);
  EXPECT_NE(Parse({"--no-such-flag"}).outcome.exit_code, 0);
}

TEST(DispatcherOptionsTest, InvalidValuesSayWhatIsAllowed) {
  auto check = [](std::vector<std::string> args) { return ValidateDispatcherOptions(Parse(args).options).message(); };
  EXPECT_EQ(check({"--upscale", "3"}), "--upscale must be 2 or 4");
  EXPECT_EQ(check({"--process-size", "9999"}), "--process-size must be within 64..256");
  EXPECT_EQ(check({"--port", "70000"}), "--port must be within 0..65535");
  EXPECT_NE(check({"--model", "magic"}).find("unknown model 'magic'"), std::string::npos);
  EXPECT_NE(check({"--worker-endpoint", "udp://x"}).find("tcp://"), std::string::npos);
  EXPECT_NE(check({"--log-level", "loud"}).find("--log-level"), std::string::npos);
}

TEST(DispatcherOptionsTest, ConfigFileUsesTheFlagNamesAndRefusesUnknownKeys) {
  std::string path = testing::TempDir() + "/dispatcher.toml";
  {
    std::ofstream out(path);
    out << "port = 9100\nprocess-size = 192\nmodel = \"lanczos\"\n";
  }
  auto line = Parse({"--config", path});
  ASSERT_FALSE(line.outcome.exit) << line.outcome.output;
  EXPECT_EQ(line.options.port, 9100);
  EXPECT_EQ(line.options.process_size, 192);
  EXPECT_EQ(line.options.model, "lanczos");
  {
    std::ofstream out(path);
    out << "prot = 9100\n";
  }
  auto bad = Parse({"--config", path});
  EXPECT_TRUE(bad.outcome.exit);
  EXPECT_EQ(bad.outcome.exit_code, 2);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tsdsr::dispatcher

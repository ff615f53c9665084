#include "dispatcher/options.h"

#include <cstdio>
#include <cstdlib>
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

TEST(DispatcherOptionsTest, JobStoreFlags) {
  auto line = Parse({"--data-dir", "/srv/tsdsr", "--result-ttl", "90m", "--result-max-gb", "0.5", "--job-history",
                     "30d", "--max-batch-files", "20", "--max-jobs", "50"});
  ASSERT_FALSE(line.outcome.exit) << line.outcome.output;
  EXPECT_EQ(line.options.data_dir, "/srv/tsdsr");
  EXPECT_EQ(line.options.result_ttl, "90m");
  EXPECT_DOUBLE_EQ(line.options.result_max_gb, 0.5);
  EXPECT_EQ(line.options.max_batch_files, 20);
  EXPECT_TRUE(ValidateDispatcherOptions(line.options).ok());
  for (std::vector<std::string> bad : {std::vector<std::string>{"--result-ttl", "1.5h"}, {"--job-history", "soon"},
                                       {"--result-max-gb", "-1"}, {"--max-batch-files", "0"}, {"--max-jobs", "0"},
                                       {"--chunk-seconds", "0"}}) {
    auto parsed = Parse(bad);
    ASSERT_FALSE(parsed.outcome.exit) << bad[0];
    Status status = ValidateDispatcherOptions(parsed.options);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad[0];
    EXPECT_NE(status.message().find(bad[0]), std::string::npos) << status.message();
  }
}

TEST(DispatcherOptionsTest, DefaultDataDirFollowsTheEnvironment) {
  const char* saved_state = std::getenv("XDG_STATE_HOME");
  const std::string state = saved_state ? saved_state : "";
  setenv("TSDSR_DATA_DIR", "/data/tsdsr", 1);
  EXPECT_EQ(DefaultDataDir(), "/data/tsdsr");
  unsetenv("TSDSR_DATA_DIR");
  setenv("XDG_STATE_HOME", "/home/u/.state", 1);
  EXPECT_EQ(DefaultDataDir(), "/home/u/.state/tsdsr-serve");
  unsetenv("XDG_STATE_HOME");
  if (std::getenv("HOME") != nullptr) {
    EXPECT_EQ(DefaultDataDir(), std::string(std::getenv("HOME")) + "/.local/state/tsdsr-serve");
  }
  if (saved_state) setenv("XDG_STATE_HOME", state.c_str(), 1);
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

// config/dispatcher.toml, the example the README points to, is read and valid.
TEST(DispatcherOptionsTest, TheExampleConfigIsValid) {
  const std::string source = __FILE__;  // <repo>/dispatcher/options_test.cc
  const std::string example = source.substr(0, source.rfind("/dispatcher/")) + "/config/dispatcher.toml";
  auto line = Parse({"--config", example});
  ASSERT_FALSE(line.outcome.exit) << line.outcome.output;
  EXPECT_EQ(line.options.model, "builtin:best");
  EXPECT_TRUE(ValidateDispatcherOptions(line.options).ok()) << ValidateDispatcherOptions(line.options).message();
}

TEST(DispatcherOptionsTest, ModelFlagsAreCheckedTogether) {
  auto check = [](std::vector<std::string> args) { return ValidateDispatcherOptions(Parse(args).options).message(); };
  EXPECT_NE(check({"--model-scale", "4"}).find("--model-scale applies only to torchscript:PATH"), std::string::npos);
  EXPECT_EQ(check({"--color-fix", "sepia"}), "--color-fix must be auto, none, wavelet or adain");
  EXPECT_TRUE(ValidateDispatcherOptions(Parse({"--color-fix", "wavelet"}).options).ok());
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

TEST(DispatcherOptionsTest, ApiKeyComesFromTheFlagOrTheEnvironment) {
  const std::string key = "0123456789abcdef0123";
  ::unsetenv("TSDSR_API_KEY");
  EXPECT_EQ(Parse({}).options.api_key, "");
  EXPECT_EQ(Parse({"--api-key", key}).options.api_key, key);
  ::setenv("TSDSR_API_KEY", "from-the-environment-1234", 1);
  EXPECT_EQ(Parse({}).options.api_key, "from-the-environment-1234");
  EXPECT_EQ(Parse({"--api-key", key}).options.api_key, key) << "the flag wins";
  ::unsetenv("TSDSR_API_KEY");
  EXPECT_TRUE(ValidateDispatcherOptions(Parse({"--api-key", key}).options).ok());
  for (const char* weak : {"short", "has a space in it 0123", "tab\tinside-0123456789"}) {
    Status refused = ValidateDispatcherOptions(Parse({"--api-key", weak}).options);
    EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << weak;
    EXPECT_EQ(refused.message().find(weak), std::string::npos) << "the key is never echoed";
  }
  EXPECT_EQ(Parse({"--help"}).outcome.output.find(key), std::string::npos);
  EXPECT_EQ(Parse({"--api-keys-file", "/etc/tsdsr/keys"}).options.api_keys_file, "/etc/tsdsr/keys");
  ::setenv("TSDSR_API_KEYS_FILE", "/run/secrets/keys", 1);
  EXPECT_EQ(Parse({}).options.api_keys_file, "/run/secrets/keys");
  ::unsetenv("TSDSR_API_KEYS_FILE");
}

TEST(DispatcherOptionsTest, AWorkerEndpointOthersReachNeedsKeysOrAWaiver) {
  auto check = [](std::vector<std::string> args) { return ValidateDispatcherOptions(Parse(args).options); };
  EXPECT_TRUE(check({"--worker-endpoint", "tcp://127.0.0.1:5555"}).ok());
  EXPECT_TRUE(check({"--worker-endpoint", "ipc:///tmp/w.sock"}).ok());
  Status refused = check({"--worker-endpoint", "tcp://0.0.0.0:5555"});
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("--gen-keys"), std::string::npos) << refused.message();
  EXPECT_TRUE(check({"--worker-endpoint", "tcp://0.0.0.0:5555", "--curve-dir", "/etc/tsdsr/keys"}).ok());
  EXPECT_TRUE(check({"--worker-endpoint", "tcp://*:5555", "--insecure-workers"}).ok());
  EXPECT_FALSE(check({"--worker-endpoint", "tcp://*:5555", "--insecure-workers", "--curve-dir", "/k"}).ok());
}

}  // namespace
}  // namespace tsdsr::dispatcher

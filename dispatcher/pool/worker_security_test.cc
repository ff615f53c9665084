#include "dispatcher/pool/worker_security.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

namespace fs = std::filesystem;

TEST(WorkerSecurityTest, LocalEndpointsNeedNoKeys) {
  EXPECT_TRUE(CheckWorkerEndpointSecurity("tcp://127.0.0.1:5555", "", false).ok());
  EXPECT_TRUE(CheckWorkerEndpointSecurity("tcp://127.0.0.1:*", "", false).ok());
  EXPECT_TRUE(CheckWorkerEndpointSecurity("ipc:///run/tsdsr/workers", "", false).ok());
}

TEST(WorkerSecurityTest, ReachableEndpointsNeedKeysOrAnExplicitWaiver) {
  for (const char* endpoint : {"tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.0.0.5:5555", "tcp://gpu-box:5555"}) {
    Status refused = CheckWorkerEndpointSecurity(endpoint, "", false);
    EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << endpoint;
    EXPECT_NE(refused.message().find("--gen-keys"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("--curve-dir"), std::string::npos) << refused.message();
    EXPECT_TRUE(CheckWorkerEndpointSecurity(endpoint, "/etc/tsdsr/keys", false).ok()) << endpoint;
    EXPECT_TRUE(CheckWorkerEndpointSecurity(endpoint, "", true).ok()) << endpoint;
  }
  EXPECT_EQ(CheckWorkerEndpointSecurity("tcp://0.0.0.0:5555", "/keys", true).code(), StatusCode::kInvalidArgument);
}

class WorkerCurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "tsdsr-curve-XXXXXX").string();
    root_ = mkdtemp(pattern.data());
    keys_ = root_ + "/keys";
    ASSERT_TRUE(GenerateKeyDirectory(keys_).ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string root_;
  std::string keys_;
  zmq::context_t context_;
};

TEST_F(WorkerCurveTest, StartsWithTheDispatcherKeyAndMakesKeysForLocalWorkers) {
  auto curve = WorkerCurve::Start(keys_, context_);
  ASSERT_TRUE(curve.ok()) << curve.status().ToString();
  EXPECT_EQ((*curve)->server_secret_key(), *ReadCurveKeyFile(keys_ + "/dispatcher.key", true));
  EXPECT_EQ((*curve)->authorized_workers(), 1u);
  const std::string local = (*curve)->local_worker_dir();
  EXPECT_EQ(fs::status(local).permissions() & fs::perms::all, fs::perms::owner_all);
  auto local_keys = ReadWorkerKeys(local);
  ASSERT_TRUE(local_keys.ok()) << local_keys.status().ToString();
  EXPECT_EQ(local_keys->server_public_key, *ReadCurveKeyFile(keys_ + "/dispatcher.pub", false));
  EXPECT_NE(local_keys->own.public_key, *ReadCurveKeyFile(keys_ + "/worker.pub", false)) << "a key of its own";
  curve->reset();
  EXPECT_FALSE(fs::exists(local)) << "removed with the dispatcher";
}

TEST_F(WorkerCurveTest, MissingPiecesAreNamed) {
  fs::remove_all(keys_ + "/authorized_workers");
  auto no_authorized = WorkerCurve::Start(keys_, context_);
  ASSERT_FALSE(no_authorized.ok());
  EXPECT_NE(no_authorized.status().message().find("authorized_workers"), std::string::npos)
      << no_authorized.status().message();
  fs::remove(keys_ + "/dispatcher.key");
  auto no_key = WorkerCurve::Start(keys_, context_);
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("dispatcher.key"), std::string::npos) << no_key.status().message();
}

}  // namespace
}  // namespace tsdsr::dispatcher

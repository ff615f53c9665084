#include "dispatcher/pool/local_workers.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

TEST(LocalWorkersTest, CountsGpusFromTheEnvironmentFirst) {
  EXPECT_EQ(CountVisibleGpus("0,1,3", "/nonexistent"), 3);
  EXPECT_EQ(CountVisibleGpus("", "/nonexistent"), 0);
  EXPECT_EQ(CountVisibleGpus("0,-1,2", "/nonexistent"), 1);
  EXPECT_EQ(CountVisibleGpus(nullptr, "/nonexistent"), 0);
}

TEST(LocalWorkersTest, OnePerGpuByDefaultAndOneOnCpu) {
  EXPECT_EQ(*LocalWorkerDevices(-1, "auto", 2), (std::vector<std::string>{"cuda:0", "cuda:1"}));
  EXPECT_EQ(*LocalWorkerDevices(-1, "auto", 0), (std::vector<std::string>{"cpu"}));
  EXPECT_EQ(*LocalWorkerDevices(3, "cuda", 2), (std::vector<std::string>{"cuda:0", "cuda:1", "cuda:0"}));
  EXPECT_EQ(*LocalWorkerDevices(2, "cpu", 4), (std::vector<std::string>{"cpu", "cpu"}));
  EXPECT_TRUE(LocalWorkerDevices(0, "auto", 1)->empty());
  EXPECT_EQ(LocalWorkerDevices(1, "cuda", 0).status().code(), StatusCode::kFailedPrecondition);
}

TEST(LocalWorkersTest, WildcardHostsBecomeLoopback) {
  EXPECT_EQ(LocalConnectAddress("tcp://0.0.0.0:5555"), "tcp://127.0.0.1:5555");
  EXPECT_EQ(LocalConnectAddress("tcp://127.0.0.1:41000"), "tcp://127.0.0.1:41000");
  EXPECT_EQ(LocalConnectAddress("tcp://10.1.2.3:5555"), "tcp://10.1.2.3:5555");
  EXPECT_EQ(LocalConnectAddress("ipc:///tmp/tsdsr.sock"), "ipc:///tmp/tsdsr.sock");
}

}  // namespace
}  // namespace tsdsr::dispatcher

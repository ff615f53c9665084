#include "dispatcher/pool/supervisor.h"

#include <signal.h>

#include <map>
#include <thread>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

using std::chrono::milliseconds;

// Records launches; processes "run" until the test ends them or they are signalled.
class FakeLauncher : public ProcessLauncher {
 public:
  Result<int> Launch(const std::vector<std::string>& argv) override {
    std::lock_guard<std::mutex> lock(mu_);
    int pid = next_pid_++;
    launches_.push_back(argv);
    running_[pid] = true;
    return pid;
  }
  std::optional<std::string> Poll(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_.at(pid)) return std::nullopt;
    return std::string("exit code 1");
  }
  void Signal(int pid, int signal) override {
    std::lock_guard<std::mutex> lock(mu_);
    signals_.push_back(signal);
    running_[pid] = false;
  }
  void Crash(int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    running_[pid] = false;
  }
  size_t launches() {
    std::lock_guard<std::mutex> lock(mu_);
    return launches_.size();
  }
  std::vector<std::string> launch(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return launches_.at(i);
  }
  std::vector<int> signals() {
    std::lock_guard<std::mutex> lock(mu_);
    return signals_;
  }

 private:
  std::mutex mu_;
  int next_pid_ = 100;
  std::vector<std::vector<std::string>> launches_;
  std::map<int, bool> running_;
  std::vector<int> signals_;
};

SupervisorOptions TestOptions() {
  SupervisorOptions o;
  o.worker_binary = "/bin/true";  // must exist and be executable
  o.devices = {"cpu", "cpu"};
  o.common_args = {"--connect", "tcp://127.0.0.1:1"};
  o.min_backoff = milliseconds(20);
  o.max_backoff = milliseconds(80);
  o.poll_interval = milliseconds(2);
  return o;
}

bool WaitFor(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return false;
}

TEST(SupervisorTest, LaunchesOneWorkerPerDeviceWithItsArguments) {
  FakeLauncher launcher;
  Metrics metrics;
  Supervisor supervisor(TestOptions(), launcher, metrics);
  ASSERT_TRUE(supervisor.Start().ok());
  ASSERT_EQ(launcher.launches(), 2u);
  EXPECT_EQ(launcher.launch(0), (std::vector<std::string>{"/bin/true", "--id", "local-0", "--device", "cpu",
                                                           "--connect", "tcp://127.0.0.1:1"}));
  EXPECT_EQ(launcher.launch(1)[2], "local-1");
  supervisor.Stop(milliseconds(100));
  EXPECT_EQ(launcher.signals(), (std::vector<int>{SIGTERM, SIGTERM}));
}

TEST(SupervisorTest, RestartsACrashedWorkerAfterBackoffAndCountsIt) {
  FakeLauncher launcher;
  Metrics metrics;
  Supervisor supervisor(TestOptions(), launcher, metrics);
  ASSERT_TRUE(supervisor.Start().ok());
  launcher.Crash(100);
  ASSERT_TRUE(WaitFor([&] { return launcher.launches() == 3; }));
  EXPECT_EQ(launcher.launch(2)[2], "local-0");
  EXPECT_EQ(supervisor.restarts(), 1);
  EXPECT_NE(metrics.Serialize().find("tsdsr_worker_restarts_total 1"), std::string::npos);
  supervisor.Stop(milliseconds(100));
}

TEST(SupervisorTest, RefusesAMissingWorkerBinary) {
  FakeLauncher launcher;
  Metrics metrics;
  SupervisorOptions options = TestOptions();
  options.worker_binary = "/nonexistent/tsdsr-worker";
  Supervisor supervisor(options, launcher, metrics);
  Status s = supervisor.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("--worker-binary"), std::string::npos);
}

TEST(SupervisorTest, PosixLauncherRunsAndReapsARealProcess) {
  auto launcher = MakePosixLauncher();
  auto pid = launcher->Launch({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(pid.ok());
  std::optional<std::string> ended;
  ASSERT_TRUE(WaitFor([&] { return (ended = launcher->Poll(*pid)).has_value(); }));
  EXPECT_EQ(*ended, "exit code 3");
  auto sleeper = launcher->Launch({"/bin/sleep", "30"});
  ASSERT_TRUE(sleeper.ok());
  EXPECT_FALSE(launcher->Poll(*sleeper).has_value());
  launcher->Signal(*sleeper, SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return (ended = launcher->Poll(*sleeper)).has_value(); }));
  EXPECT_EQ(*ended, "signal 9");
}

}  // namespace
}  // namespace tsdsr::dispatcher

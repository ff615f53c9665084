// Starts the local worker processes (--workers N), restarts the ones that die with exponential backoff,
// and stops them all on shutdown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "dispatcher/status/metrics.h"

namespace tsdsr::dispatcher {

// The seam in front of fork/exec/waitpid/kill, so the supervisor's policy is testable without processes.
class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts argv[0] with arguments argv[1..]; the pid, or Internal. The child dies with its parent.
  virtual Result<int> Launch(const std::vector<std::string>& argv) = 0;
  // nullopt while `pid` runs; once it has ended (and was reaped), how: "exit code 1", "signal 9".
  virtual std::optional<std::string> Poll(int pid) = 0;
  virtual void Signal(int pid, int signal) = 0;
};

// fork/exec/waitpid/kill.
std::unique_ptr<ProcessLauncher> MakePosixLauncher();

struct SupervisorOptions {
  std::string worker_binary;             // path to tsdsr-worker
  std::vector<std::string> devices;      // one worker per entry: "cpu", "cuda:0", ...
  std::vector<std::string> common_args;  // passed to every worker (--connect, --model, ...)
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds stable_after{60000};  // a worker that ran this long restarts at min_backoff again
  std::chrono::milliseconds poll_interval{100};
};

class Supervisor {
 public:
  // `launcher` and `metrics` must outlive the supervisor.
  Supervisor(SupervisorOptions options, ProcessLauncher& launcher, Metrics& metrics);
  ~Supervisor();  // Stop(0)
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Launches every worker and starts watching them. FailedPrecondition when the binary is not executable.
  Status Start();
  // Sends SIGTERM to all workers, waits up to `grace` for them to exit, SIGKILLs the rest, and reaps them.
  void Stop(std::chrono::milliseconds grace);
  // Restarts so far. Thread-safe.
  int restarts() const;

 private:
  struct Child {
    std::string id;
    std::string device;
    int pid = 0;  // 0 while waiting to be restarted
    std::chrono::steady_clock::time_point started{};
    std::chrono::steady_clock::time_point restart_at{};
    std::chrono::milliseconds backoff{0};
  };

  void Watch();
  void Launch(Child& child);
  std::vector<std::string> ArgvOf(const Child& child) const;

  SupervisorOptions options_;
  ProcessLauncher& launcher_;
  Metrics& metrics_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;       // guarded by mu_
  std::vector<Child> children_;  // guarded by mu_
  int restarts_ = 0;            // guarded by mu_
  std::thread watcher_;
};

}  // namespace tsdsr::dispatcher

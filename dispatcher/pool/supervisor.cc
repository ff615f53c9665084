#include "dispatcher/pool/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace tsdsr::dispatcher {
namespace {

using SteadyClock = std::chrono::steady_clock;

class PosixLauncher : public ProcessLauncher {
 public:
  Result<int> Launch(const std::vector<std::string>& argv) override {
    std::vector<char*> raw;
    for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
    raw.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return Status::Internal(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);  // the dispatcher blocks SIGTERM/SIGINT; workers must not
      execv(raw[0], raw.data());
      _exit(127);
    }
    return static_cast<int>(pid);
  }

  std::optional<std::string> Poll(int pid) override {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == 0) return std::nullopt;
    if (r < 0) return std::string("lost (") + std::strerror(errno) + ")";
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
    return std::string("ended");
  }

  void Signal(int pid, int signal) override { kill(pid, signal); }
};

}  // namespace

std::unique_ptr<ProcessLauncher> MakePosixLauncher() { return std::make_unique<PosixLauncher>(); }

Supervisor::Supervisor(SupervisorOptions options, ProcessLauncher& launcher, Metrics& metrics)
    : options_(std::move(options)), launcher_(launcher), metrics_(metrics) {}

Supervisor::~Supervisor() { Stop(std::chrono::milliseconds(0)); }

Status Supervisor::Start() {
  if (access(options_.worker_binary.c_str(), X_OK) != 0) {
    return Status::FailedPrecondition("worker program '" + options_.worker_binary +
                                      "' is not executable (set --worker-binary)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < options_.devices.size(); ++i) {
    Child child;
    child.id = "local-" + std::to_string(i);
    child.device = options_.devices[i];
    child.backoff = options_.min_backoff;
    Launch(child);
    children_.push_back(std::move(child));
  }
  watcher_ = std::thread([this] { Watch(); });
  return Status::Ok();
}

std::vector<std::string> Supervisor::ArgvOf(const Child& child) const {
  std::vector<std::string> argv = {options_.worker_binary, "--id", child.id, "--device", child.device};
  argv.insert(argv.end(), options_.common_args.begin(), options_.common_args.end());
  return argv;
}

void Supervisor::Launch(Child& child) {
  auto pid = launcher_.Launch(ArgvOf(child));
  child.started = SteadyClock::now();
  if (!pid.ok()) {
    spdlog::error("cannot start worker {}: {}", child.id, pid.status().message());
    child.pid = 0;
    child.restart_at = child.started + child.backoff;
    return;
  }
  child.pid = *pid;
  spdlog::info("started worker {} on {} (pid {})", child.id, child.device, child.pid);
}

void Supervisor::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
    if (stopping_) break;
    auto now = SteadyClock::now();
    for (Child& child : children_) {
      if (child.pid == 0) {
        if (now >= child.restart_at) {
          Launch(child);
          ++restarts_;
          metrics_.CountWorkerRestart();
        }
        continue;
      }
      auto ended = launcher_.Poll(child.pid);
      if (!ended) continue;
      if (now - child.started >= options_.stable_after) child.backoff = options_.min_backoff;
      spdlog::warn("worker {} (pid {}) ended: {}; restarting in {} ms", child.id, child.pid, *ended,
                   child.backoff.count());
      child.pid = 0;
      child.restart_at = now + child.backoff;
      child.backoff = std::min(child.backoff * 2, options_.max_backoff);
    }
  }
}

void Supervisor::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !watcher_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (Child& child : children_) {
    if (child.pid != 0) launcher_.Signal(child.pid, SIGTERM);
  }
  auto give_up = SteadyClock::now() + grace;
  for (Child& child : children_) {
    while (child.pid != 0) {
      if (launcher_.Poll(child.pid)) {
        child.pid = 0;
      } else if (SteadyClock::now() >= give_up) {
        spdlog::warn("worker {} (pid {}) did not stop in time; killing it", child.id, child.pid);
        launcher_.Signal(child.pid, SIGKILL);
        while (!launcher_.Poll(child.pid)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        child.pid = 0;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
}

int Supervisor::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return restarts_;
}

}  // namespace tsdsr::dispatcher

#include "tests/dispatcher_process.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

namespace tsdsr::testing {

Result<std::unique_ptr<DispatcherProcess>> DispatcherProcess::Start(const DispatcherProcessOptions& options) {
  std::unique_ptr<DispatcherProcess> process(new DispatcherProcess());
  process->launcher_ = dispatcher::MakePosixLauncher();
  const char* log_level = std::getenv("TSDSR_TEST_LOG_LEVEL");  // e.g. debug, to see what a failing test did
  std::vector<std::string> argv = {options.program, "--port", "0", "--port-file", options.port_file,
                                   "--workers", std::to_string(options.workers), "--worker-endpoint",
                                   options.worker_endpoint, "--log-level", log_level ? log_level : "warn"};
  argv.insert(argv.end(), options.extra_flags.begin(), options.extra_flags.end());
  if (std::find(argv.begin(), argv.end(), "--model") == argv.end()) argv.insert(argv.end(), {"--model", "bicubic"});
  if (std::find(argv.begin(), argv.end(), "--data-dir") == argv.end()) {
    const std::string folder = std::filesystem::path(options.port_file).parent_path().string();
    argv.insert(argv.end(), {"--data-dir", (folder.empty() ? std::string(".") : folder) + "/data"});
  }
  TSDSR_ASSIGN_OR_RETURN(process->pid_, process->launcher_->Launch(argv));
  TSDSR_RETURN_IF_ERROR(process->WaitUntilReady(options));  // on error the destructor stops it
  return process;
}

Status DispatcherProcess::WaitUntilReady(const DispatcherProcessOptions& options) {
  const auto give_up = std::chrono::steady_clock::now() + options.ready_timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (auto ended = launcher_->Poll(pid_)) {
      ended_ = true;
      return Status::Unavailable("dispatcher exited during start-up: " + *ended);
    }
    if (!http_) {
      TSDSR_ASSIGN_OR_RETURN(bool connected, Connect(options));
      if (!connected) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
    }
    auto response = http_->Get("/health");
    const int wanted = options.wait_for_ready >= 0 ? options.wait_for_ready : options.workers;
    if (response.ok() && wanted == 0) return Status::Ok();  // serving; no worker asked for
    if (response.ok() && response->status == 200) {
      auto health = nlohmann::json::parse(response->body, nullptr, false);
      if (!health.is_discarded() && health["workers"]["ready"].get<int>() >= wanted) return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("dispatcher did not get " + std::to_string(options.workers) + " ready workers in " +
                             std::to_string(options.ready_timeout.count()) + " ms");
}

Result<bool> DispatcherProcess::Connect(const DispatcherProcessOptions& options) {
  std::ifstream in(options.port_file);
  if (!(in >> port_) || port_ <= 0) return false;
  TSDSR_ASSIGN_OR_RETURN(http_, client::HttpClient::Create(base_url(), options.http_timeout));
  return true;
}

DispatcherProcess::~DispatcherProcess() {
  if (!ended_ && pid_ != 0) Terminate(std::chrono::seconds(15));
}

std::string DispatcherProcess::Terminate(std::chrono::seconds timeout) {
  if (ended_ || pid_ == 0) return "already ended";
  launcher_->Signal(pid_, SIGTERM);
  return WaitForExit(timeout);
}

std::string DispatcherProcess::WaitForExit(std::chrono::seconds timeout) {
  if (ended_ || pid_ == 0) return "already ended";
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (auto ended = launcher_->Poll(pid_)) {
      ended_ = true;
      return *ended;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  launcher_->Signal(pid_, SIGKILL);
  while (!launcher_->Poll(pid_)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ended_ = true;
  return "killed after timeout";
}

}  // namespace tsdsr::testing

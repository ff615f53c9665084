// A real tsdsr-dispatcher process with its local workers, on an HTTP port it picks itself: started, waited
// for until its workers are ready, and stopped with SIGTERM. Shared by the end-to-end test harness and the
// pool benchmark (bench/); free of GoogleTest, errors are Status.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "common/status.h"
#include "dispatcher/pool/supervisor.h"

namespace tsdsr::testing {

struct DispatcherProcessOptions {
  std::string program;                   // path of tsdsr-dispatcher
  std::string port_file;                 // where it writes its HTTP port; the directory must exist
  int workers = 1;                       // --workers
  int wait_for_ready = -1;               // ready workers to wait for; -1 = `workers`
  std::string worker_endpoint = "tcp://127.0.0.1:*";  // --worker-endpoint
  std::vector<std::string> extra_flags;  // besides the fixed ones (--port 0 --port-file --workers
                                         // --worker-endpoint --log-level warn), which they must not repeat;
                                         // --model is bicubic (outputs are checked against OpenCV) and
                                         // --data-dir the folder of port_file + "/data" unless they name one
  std::chrono::milliseconds ready_timeout{60000};
  std::chrono::milliseconds http_timeout{120000};  // of each request made through http()
};

class DispatcherProcess {
 public:
  // Launches the dispatcher and waits until GET /health reports `workers` ready workers. Errors: Internal
  // when it cannot be launched, Unavailable when it exits during start-up (with how) or is not ready within
  // ready_timeout (then it has been stopped). The caller owns the process; the destructor stops it.
  static Result<std::unique_ptr<DispatcherProcess>> Start(const DispatcherProcessOptions& options);
  ~DispatcherProcess();  // Terminate(15 s) unless it has ended
  DispatcherProcess(const DispatcherProcess&) = delete;
  DispatcherProcess& operator=(const DispatcherProcess&) = delete;

  // Sends SIGTERM and waits up to `timeout` for the exit, then SIGKILLs it. Returns how it ended, e.g.
  // "exit code 0", "killed after timeout", or "already ended". Not thread-safe.
  std::string Terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
  // Waits up to `timeout` for the process to exit by itself, then SIGKILLs it; returns as Terminate.
  std::string WaitForExit(std::chrono::seconds timeout = std::chrono::seconds(30));

  int port() const { return port_; }
  int pid() const { return pid_; }
  // "http://127.0.0.1:PORT"
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // A client connected to it, for the thread that started it (HttpClient is not thread-safe).
  client::HttpClient& http() { return *http_; }

 private:
  DispatcherProcess() = default;
  // Waits for the port file, then for `workers` ready workers in /health.
  Status WaitUntilReady(const DispatcherProcessOptions& options);
  // Reads the port the dispatcher wrote and opens a client to it; false until the file is there.
  Result<bool> Connect(const DispatcherProcessOptions& options);

  std::unique_ptr<dispatcher::ProcessLauncher> launcher_;
  std::unique_ptr<client::HttpClient> http_;
  int port_ = 0;
  int pid_ = 0;
  bool ended_ = false;
};

}  // namespace tsdsr::testing

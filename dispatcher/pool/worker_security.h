// How the dispatcher secures its worker endpoint: the start-up policy (an endpoint other machines can reach
// needs CURVE keys, unless --insecure-workers says otherwise) and the CURVE set-up itself (--curve-dir).
#pragma once

#include <memory>
#include <string>

#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/status.h"
#include "dispatcher/pool/zap_authenticator.h"

namespace tsdsr::dispatcher {

// OK when `endpoint` may be served as configured: it is local (ipc://, loopback tcp://), or `curve_dir` is
// set, or `insecure` is. FailedPrecondition explaining how to set keys up (--gen-keys) otherwise;
// InvalidArgument when both `curve_dir` and `insecure` are given.
Status CheckWorkerEndpointSecurity(const std::string& endpoint, const std::string& curve_dir, bool insecure);

// The CURVE side of the worker endpoint: the dispatcher's pair from DIR/dispatcher.key; a ZAP authenticator
// that admits the keys of DIR/authorized_workers/*.pub and one key made for this run's local workers; and a
// private folder (mode 0700) holding that key for them, removed by the destructor.
class WorkerCurve {
 public:
  // Reads the keys and starts the authenticator in `context` (which must outlive this); call before the
  // ROUTER binds. Errors name the file or folder at fault; FailedPrecondition when libzmq lacks CURVE.
  static Result<std::unique_ptr<WorkerCurve>> Start(const std::string& curve_dir, zmq::context_t& context);
  ~WorkerCurve();  // Stop(), then removes the local workers' folder
  WorkerCurve(const WorkerCurve&) = delete;
  WorkerCurve& operator=(const WorkerCurve&) = delete;

  // The dispatcher's secret key (Z85), for the ROUTER socket's ZMQ_CURVE_SECRETKEY.
  const std::string& server_secret_key() const { return server_.secret_key; }
  // The --curve-dir to hand local workers: worker.key, worker.pub and dispatcher.pub of this run.
  const std::string& local_worker_dir() const { return local_dir_; }
  // Remote worker keys admitted (besides the local workers' own).
  size_t authorized_workers() const { return authorized_workers_; }

  // Stops the authenticator. Call once the ROUTER socket is closed. Idempotent; owner thread only.
  void Stop();

 private:
  WorkerCurve() = default;
  // Makes local_dir_ and the local workers' key pair in it; returns that pair's public key.
  Result<std::string> MakeLocalWorkerKeys();

  CurveKeyPair server_;
  std::string local_dir_;
  size_t authorized_workers_ = 0;
  std::unique_ptr<ZapAuthenticator> zap_;
};

}  // namespace tsdsr::dispatcher

#include "dispatcher/pool/worker_security.h"

#include <stdlib.h>

#include <filesystem>
#include <vector>

#include <spdlog/spdlog.h>

namespace tsdsr::dispatcher {
namespace {

namespace fs = std::filesystem;

constexpr char kLocalWorkersKeyName[] = "local-workers";

}  // namespace

Status CheckWorkerEndpointSecurity(const std::string& endpoint, const std::string& curve_dir, bool insecure) {
  if (!curve_dir.empty() && insecure) {
    return Status::InvalidArgument("--curve-dir and --insecure-workers contradict each other: choose one");
  }
  if (!curve_dir.empty() || insecure || IsLocalEndpoint(endpoint)) return Status::Ok();
  return Status::FailedPrecondition(
      "--worker-endpoint " + endpoint +
      " can be reached from other machines, so workers must authenticate. Set up keys once with "
      "'tsdsr-dispatcher --gen-keys DIR', start the dispatcher with --curve-dir DIR, and start each remote worker "
      "with --curve-dir pointing at copies of DIR/worker.key, DIR/worker.pub and DIR/dispatcher.pub. "
      "Or bind a loopback address (tcp://127.0.0.1:PORT) or ipc://, or pass --insecure-workers to accept any peer "
      "that reaches the port (it can take jobs and see every image; see README, Security).");
}

Result<std::unique_ptr<WorkerCurve>> WorkerCurve::Start(const std::string& curve_dir, zmq::context_t& context) {
  if (!CurveAvailable()) {
    return Status::FailedPrecondition("--curve-dir needs a libzmq built with CURVE (libsodium); this one is not");
  }
  std::unique_ptr<WorkerCurve> curve(new WorkerCurve());
  const fs::path root(curve_dir);
  TSDSR_ASSIGN_OR_RETURN(std::string secret, ReadCurveKeyFile((root / kDispatcherSecretKeyFile).string(), true));
  TSDSR_ASSIGN_OR_RETURN(curve->server_, CurveKeyPairOf(secret));
  auto authorized = ReadAuthorizedKeys((root / kAuthorizedWorkersDir).string());
  if (!authorized.ok()) {
    return Status(authorized.status().code(), authorized.status().message() +
                                                  " (put the public keys of the workers to accept there, " +
                                                  "one NAME.pub file each)");
  }
  curve->authorized_workers_ = authorized->size();
  TSDSR_ASSIGN_OR_RETURN(std::string local_key, curve->MakeLocalWorkerKeys());
  authorized->emplace(local_key, kLocalWorkersKeyName);
  TSDSR_ASSIGN_OR_RETURN(curve->zap_, ZapAuthenticator::Start(context, std::move(*authorized)));
  if (curve->authorized_workers_ == 0) {
    spdlog::warn("no worker keys in {}: only local workers can connect", (root / kAuthorizedWorkersDir).string());
  }
  spdlog::info("workers authenticate with CURVE: {} authorized worker key(s) in {}", curve->authorized_workers_,
               (root / kAuthorizedWorkersDir).string());
  return curve;
}

Result<std::string> WorkerCurve::MakeLocalWorkerKeys() {
  std::string pattern = (fs::temp_directory_path() / "tsdsr-local-worker-keys-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::Internal("cannot create a folder for the local workers' keys in " +
                            fs::temp_directory_path().string());
  }
  local_dir_ = pattern;  // mode 0700; removed by the destructor from here on
  TSDSR_ASSIGN_OR_RETURN(CurveKeyPair pair, GenerateCurveKeyPair());
  const fs::path dir(local_dir_);
  TSDSR_RETURN_IF_ERROR(WriteCurveKeyFile((dir / kWorkerSecretKeyFile).string(), pair.secret_key, true,
                                          "local workers of one dispatcher run; removed when it stops"));
  TSDSR_RETURN_IF_ERROR(WriteCurveKeyFile((dir / kWorkerPublicKeyFile).string(), pair.public_key, false,
                                          "local workers of one dispatcher run"));
  TSDSR_RETURN_IF_ERROR(
      WriteCurveKeyFile((dir / kDispatcherPublicKeyFile).string(), server_.public_key, false, "dispatcher"));
  return pair.public_key;
}

WorkerCurve::~WorkerCurve() {
  Stop();
  if (!local_dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(local_dir_, ignored);
  }
}

void WorkerCurve::Stop() {
  if (zap_) zap_->Stop();
}

}  // namespace tsdsr::dispatcher

// tsdsr-worker: loads the model on its device, then serves jobs from the dispatcher until SIGTERM/SIGINT.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include <spdlog/spdlog.h>

#include "common/curve_keys.h"
#include "common/logging.h"
#include "worker/model_factory.h"
#include "worker/options.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  using namespace tsdsr::worker;  // NOLINT(google-build-using-namespace): main only
  WorkerCommandLine line = ParseWorkerCommandLine(tsdsr::ArgsOf(argc, argv));
  if (auto exit_code = tsdsr::FinishCommandLine(line.outcome, [&] { return ValidateWorkerOptions(line.options); })) {
    return *exit_code;
  }
  tsdsr::InitLogging("worker", line.options.log_level);

  // Stop signals arrive on a descriptor the I/O loop polls; every thread inherits the blocked mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int stop_fd = signalfd(-1, &stop, SFD_CLOEXEC);

  // Keys first: a bad key folder is reported before a model takes its time to load.
  std::optional<tsdsr::CurveClientKeys> curve;
  if (!line.options.curve_dir.empty()) {
    auto keys = tsdsr::ReadWorkerKeys(line.options.curve_dir);
    if (!keys.ok()) {  // also when this libzmq lacks CURVE
      spdlog::critical("--curve-dir: {}", keys.status().message());
      close(stop_fd);
      return 2;
    }
    curve = std::move(*keys);
  } else if (!tsdsr::IsLocalEndpoint(line.options.connect)) {
    spdlog::warn("connecting to {} without CURVE keys: the link is not encrypted, and a dispatcher with "
                 "--curve-dir will refuse this worker (see --curve-dir)", line.options.connect);
  }

  ModelOptions model;
  model.flags = ModelFlagsOf(line.options);
  model.device = line.options.device;
  model.tile_batch = line.options.tile_batch;
  model.tile_memory_mb = line.options.tile_memory_mb;
  model.models_dir = line.options.models_dir;
  auto upscaler = CreateUpscaler(model);
  std::string load_error;
  if (!upscaler.ok()) {
    load_error = upscaler.status().message();
    spdlog::error("model '{}' on {} failed to load: {}", model.flags.spec, model.device, load_error);
  } else {
    const auto& d = (*upscaler)->description();
    spdlog::info("model {} ready on {} ({}, {})", d.name, d.device, d.device_name, d.dtype);
  }
  zmq::context_t context;
  Worker worker(line.options, upscaler.ok() ? std::move(*upscaler) : nullptr, load_error, context);
  if (curve) worker.UseCurve(std::move(*curve));
  int code = worker.Run(stop_fd);
  close(stop_fd);
  return code;
}

// tsdsr-dispatcher: parses options, starts the service, waits for SIGTERM/SIGINT, stops cleanly.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "common/curve_keys.h"
#include "common/logging.h"
#include "common/cli.h"
#include "dispatcher/options.h"
#include "dispatcher/service.h"

namespace {

// Blocks the stop signals in every thread (threads inherit the mask) so main can wait for them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

// Writes the port through a temporary file and a rename, so a reader never sees a partial number.
tsdsr::Status WritePortFile(const std::string& path, int port) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << port << "\n";
    if (!out) return tsdsr::Status::Internal("cannot write --port-file " + path);
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) return tsdsr::Status::Internal("cannot write --port-file " + path + ": " + error.message());
  return tsdsr::Status::Ok();
}

// Refuses new work and waits until accepted jobs are answered or `timeout` passes. False when another stop
// signal arrives meanwhile.
bool Drain(tsdsr::dispatcher::DispatcherService& service, std::chrono::milliseconds timeout, const sigset_t& signals) {
  service.BeginDrain();
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  const timespec tick{0, 20'000'000};
  while (!service.Idle()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      spdlog::warn("drain timeout: answering what is left with 503");
      return true;
    }
    if (sigtimedwait(&signals, nullptr, &tick) > 0) return false;
  }
  return true;
}

// --gen-keys DIR: writes the key folder and says what goes where.
int GenerateKeys(const std::string& dir) {
  if (tsdsr::Status written = tsdsr::GenerateKeyDirectory(dir); !written.ok()) {
    std::fprintf(stderr, "error: %s\n", written.message().c_str());
    return 1;
  }
  const std::string text =
      "wrote CURVE keys to " + dir + ":\n"
      "  dispatcher.key (secret: stays on the dispatcher's machine), dispatcher.pub\n"
      "  worker.key (secret), worker.pub, and authorized_workers/worker.pub (the workers the dispatcher accepts)\n"
      "dispatcher: tsdsr-dispatcher --worker-endpoint tcp://0.0.0.0:5555 --curve-dir " + dir + "\n"
      "worker:     copy worker.key, worker.pub and dispatcher.pub into a folder on its machine, then\n"
      "            tsdsr-worker --connect tcp://DISPATCHER:5555 --curve-dir FOLDER\n";
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tsdsr::dispatcher;  // NOLINT(google-build-using-namespace): main only
  DispatcherCommandLine line = ParseDispatcherCommandLine(tsdsr::ArgsOf(argc, argv));
  const bool gen_keys = !line.options.gen_keys.empty();
  if (auto exit_code = tsdsr::FinishCommandLine(
          line.outcome, [&] { return gen_keys ? tsdsr::Status::Ok() : ValidateDispatcherOptions(line.options); })) {
    return *exit_code;
  }
  if (gen_keys) return GenerateKeys(line.options.gen_keys);
  tsdsr::InitLogging("dispatcher", line.options.log_level);
  // Request bodies and images (hundreds of KiB to tens of MiB) get pages of their own and give them back when
  // freed. glibc's default threshold rises to 32 MiB after the first large free, after which such buffers come from
  // the heap and stay resident: the memory budget would then bound what is held, not what is resident.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  sigset_t stop_signals = BlockStopSignals();

  auto service = DispatcherService::Start(line.options, tsdsr::ProgramDir(argv[0]));
  if (!service.ok()) {
    spdlog::critical("cannot start: {}", service.status().message());
    return 1;
  }
  if (!line.options.port_file.empty()) {
    if (tsdsr::Status written = WritePortFile(line.options.port_file, (*service)->http_port()); !written.ok()) {
      spdlog::critical("{}", written.message());
      return 1;
    }
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received {}; draining (up to {} ms; a second signal stops at once)", strsignal(signal_number),
               line.options.drain_timeout_ms);
  if (!Drain(**service, std::chrono::milliseconds(line.options.drain_timeout_ms), stop_signals)) {
    spdlog::warn("second signal; exiting at once");
    std::_Exit(1);
  }
  (*service)->Stop();
  spdlog::info("stopped");
  return 0;
}

// tsdsr-dispatcher: parses options, starts the service, waits for SIGTERM/SIGINT, stops cleanly.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/logging.h"
#include "dispatcher/options.h"
#include "dispatcher/service.h"

namespace {

std::string ProgramDir(const char* argv0) {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) self = std::filesystem::absolute(argv0, error);
  return self.parent_path().string();
}

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

}  // namespace

int main(int argc, char** argv) {
  using namespace tsdsr::dispatcher;  // NOLINT(google-build-using-namespace): main only
  DispatcherCommandLine line = ParseDispatcherCommandLine(tsdsr::ArgsOf(argc, argv));
  if (line.outcome.exit) {
    std::fputs(line.outcome.output.c_str(), line.outcome.exit_code == 0 ? stdout : stderr);
    return line.outcome.exit_code;
  }
  if (tsdsr::Status valid = ValidateDispatcherOptions(line.options); !valid.ok()) {
    std::fprintf(stderr, "error: %s\n", valid.message().c_str());
    return 2;
  }
  tsdsr::InitLogging("dispatcher", line.options.log_level);
  sigset_t stop_signals = BlockStopSignals();

  auto service = DispatcherService::Start(line.options, ProgramDir(argv[0]));
  if (!service.ok()) {
    spdlog::critical("cannot start: {}", service.status().message());
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received {}; stopping", strsignal(signal_number));
  (*service)->Stop();
  spdlog::info("stopped");
  return 0;
}

// tsdsr-client: the command-line client. All logic lives in client_app.cc (unit-tested); see --help.
#include <unistd.h>

#include <iostream>

#include "client/client_app.h"

int main(int argc, char** argv) {
  tsdsr::client::ClientTuning tuning;
  tuning.err_is_terminal = isatty(STDERR_FILENO) == 1;
  return tsdsr::client::ClientMain(argc, argv, std::cout, std::cerr, tuning);
}

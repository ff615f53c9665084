// The commands of tsdsr-client: upscale one image (-i, optionally --async), a folder (--batch), a watched
// folder (--watch), or print the server's health, info or stats. Exit codes are the ExitCode values of
// client/options.h: 0 ok, 1 usage/input error, 2 server answered 4xx, 3 server answered 5xx, 4 cannot
// connect / timed out (for --batch see ExitCodeOf in file_job.h).
#pragma once

#include <ostream>

#include "client/files.h"
#include "client/http_client.h"
#include "client/job_settings.h"
#include "client/options.h"

namespace tsdsr::client {

// Runs the action chosen in `options` (already validated) through `http` (--batch and --watch clone it for
// their threads). Results go to `out`; progress and errors ("error: ..." lines) to `err`. `tuning` holds
// the timing seams for tests and whether `err` is a terminal. Returns the exit code. Uses `http`, so not
// thread-safe with other users of it.
int RunClient(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err,
              const ClientTuning& tuning = {});

// The whole program: parses and validates argv, connects to --host/--port and runs RunClient.
// Returns the process exit code; never throws.
int ClientMain(int argc, const char* const argv[], std::ostream& out, std::ostream& err,
               const ClientTuning& tuning = {});

}  // namespace tsdsr::client

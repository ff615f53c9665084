// The commands of tsdsr-client: upscale one image, or print the server's health, info or stats.
// Exit codes are the ExitCode values of client/options.h: 0 ok, 1 usage/input error, 2 server answered 4xx,
// 3 server answered 5xx, 4 cannot connect / timed out.
#pragma once

#include <ostream>

#include "client/http_client.h"
#include "client/options.h"

namespace tsdsr::client {

// Runs the action chosen in `options` (already validated) through `http`. Results go to `out`; an error is
// one "error: ..." line on `err`. Returns the exit code. Uses `http`, so not thread-safe with other users.
int RunClient(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err);

// The whole program: parses and validates argv, connects to --host/--port and runs RunClient.
// Returns the process exit code; never throws.
int ClientMain(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

// Writes `bytes` to `path` atomically: a temporary file in the same folder, then rename over `path`.
// On failure (InvalidArgument naming the path and the OS error) nothing is left behind.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace tsdsr::client

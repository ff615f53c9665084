// Command-line parsing shared by the three programs: CLI11 with one way of reporting help and errors.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace CLI {
class App;
}

namespace tsdsr {

struct CliOutcome {
  bool exit = false;  // true: print `output` and exit with `exit_code` (help, or a usage error)
  int exit_code = 0;
  std::string output;
};

// Parses `args` (args[0] is the program name) into `app`. --help gives exit 0 and the help text; a usage
// error gives exit 2 and "error: <what>" plus a pointer to --help. Unknown keys in a --config file are errors.
CliOutcome ParseCommandLine(CLI::App& app, const std::vector<std::string>& args);

// For a program's main: prints what `outcome` asks for (help on stdout, a usage error on stderr) or, when
// parsing went through, runs `validate` and prints its error as "error: ...". Returns the exit code (0 for
// help, 2 for a usage or validation error) when main should stop, nullopt when it should go on.
std::optional<int> FinishCommandLine(const CliOutcome& outcome, const std::function<Status()>& validate);

// argv as strings, for ParseCommandLine.
std::vector<std::string> ArgsOf(int argc, const char* const* argv);

// The folder of the running program (from /proc/self/exe, else `argv0` made absolute when given), where the
// programs built beside it are; "" when neither says.
std::string ProgramDir(const char* argv0 = nullptr);

}  // namespace tsdsr

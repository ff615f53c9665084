#include "common/cli.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include <CLI/CLI.hpp>

namespace tsdsr {

CliOutcome ParseCommandLine(CLI::App& app, const std::vector<std::string>& args) {
  app.allow_config_extras(CLI::config_extras_mode::error);
  std::vector<std::string> rest(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
  std::reverse(rest.begin(), rest.end());  // CLI11 consumes a reversed vector
  CliOutcome outcome;
  try {
    app.parse(rest);
  } catch (const CLI::CallForHelp&) {
    outcome.exit = true;
    outcome.output = app.help();
  } catch (const CLI::ParseError& e) {
    outcome.exit = true;
    outcome.exit_code = 2;
    std::string program = args.empty() ? app.get_name() : args[0];
    outcome.output = std::string("error: ") + e.what() + "\nRun '" + program + " --help' for the options.\n";
  }
  return outcome;
}

std::optional<int> FinishCommandLine(const CliOutcome& outcome, const std::function<Status()>& validate) {
  if (outcome.exit) {
    std::fputs(outcome.output.c_str(), outcome.exit_code == 0 ? stdout : stderr);
    return outcome.exit_code;
  }
  if (Status valid = validate(); !valid.ok()) {
    std::fprintf(stderr, "error: %s\n", valid.message().c_str());
    return 2;
  }
  return std::nullopt;
}

std::vector<std::string> ArgsOf(int argc, const char* const* argv) { return {argv, argv + argc}; }

std::string ProgramDir(const char* argv0) {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error && argv0 != nullptr) self = std::filesystem::absolute(argv0, error);
  return error ? "" : self.parent_path().string();
}

}  // namespace tsdsr

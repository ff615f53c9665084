// Logging set-up shared by the three programs: spdlog to stderr with the process name in every line.
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace tsdsr {

// Configures the default spdlog logger. `level` is one of trace, debug, info, warn, error, off.
// Returns false (and keeps "info") for an unknown level. Call once at start, before other threads exist.
bool InitLogging(const std::string& process_name, const std::string& level);

// True for the level names InitLogging accepts.
bool IsLogLevel(const std::string& level);

}  // namespace tsdsr

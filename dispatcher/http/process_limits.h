// What this process may open: files for connections.
#pragma once

#include <cstdint>

namespace tsdsr::dispatcher {

// Raises this process's soft limit on open files toward `wanted` (at most the hard limit) and returns the soft
// limit in force afterwards.
std::int64_t RaiseOpenFileLimit(std::int64_t wanted);

}  // namespace tsdsr::dispatcher

// What this machine and process allow the front door: the memory to budget for requests by default, and open
// files for connections.
#pragma once

#include <cstdint>

namespace tsdsr::dispatcher {

// The default memory budget: a quarter of the machine's memory, or of the control group's limit when that is
// lower (a container), and at least 256 MiB.
std::int64_t DefaultMemoryBudgetBytes();

// Raises this process's soft limit on open files toward `wanted` (at most the hard limit) and returns the soft
// limit in force afterwards.
std::int64_t RaiseOpenFileLimit(std::int64_t wanted);

}  // namespace tsdsr::dispatcher

#include "dispatcher/http/process_limits.h"

#include <sys/resource.h>

#include <algorithm>

namespace tsdsr::dispatcher {
std::int64_t RaiseOpenFileLimit(std::int64_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  const rlim_t target = limit.rlim_max == RLIM_INFINITY
                            ? static_cast<rlim_t>(wanted)
                            : std::min(static_cast<rlim_t>(wanted), limit.rlim_max);
  if (target > limit.rlim_cur) {
    limit.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur == RLIM_INFINITY ? wanted : static_cast<std::int64_t>(limit.rlim_cur);
}

}  // namespace tsdsr::dispatcher

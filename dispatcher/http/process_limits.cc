#include "dispatcher/http/process_limits.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace tsdsr::dispatcher {
namespace {

constexpr std::int64_t kMinDefaultBudget = std::int64_t{256} << 20;

// The memory limit of this process's control group (v2, then v1); 0 when none is set.
std::int64_t CgroupLimit() {
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(path);
    std::string text;
    if (!(in >> text) || text == "max") continue;
    try {
      const long long value = std::stoll(text);
      if (value > 0 && value < (std::int64_t{1} << 60)) return value;  // v1 says "unlimited" as a huge number
    } catch (const std::exception&) {
    }
  }
  return 0;
}

}  // namespace

std::int64_t DefaultMemoryBudgetBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  std::int64_t memory = pages > 0 && page > 0 ? std::int64_t{pages} * page : 0;
  const std::int64_t cgroup = CgroupLimit();
  if (cgroup > 0 && (memory == 0 || cgroup < memory)) memory = cgroup;
  return std::max(kMinDefaultBudget, memory / 4);
}

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

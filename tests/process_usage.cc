#include "tests/process_usage.h"

#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tsdsr::testing {

ProcessUsage UsageOf(int pid) {
  ProcessUsage usage;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    std::int64_t value = 0;
    fields >> key >> value;
    if (key == "VmRSS:") usage.rss_bytes = value << 10;
    if (key == "VmHWM:") usage.peak_bytes = value << 10;
    if (key == "Threads:") usage.threads = static_cast<int>(value);
  }
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator(dir + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++usage.open_files;
  }
  usage.ok = usage.rss_bytes > 0 && !error;
  return usage;
}

std::string Describe(const ProcessUsage& usage) {
  char text[160];
  std::snprintf(text, sizeof text, "rss %.1f MiB, peak %.1f MiB, %d threads, %d open files",
                double(usage.rss_bytes) / (1 << 20), double(usage.peak_bytes) / (1 << 20), usage.threads,
                usage.open_files);
  return text;
}

std::int64_t AllowOpenFiles(std::int64_t files) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (static_cast<rlim_t>(files) > limit.rlim_cur) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? files : std::min<rlim_t>(files, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::int64_t>(limit.rlim_cur);
}

}  // namespace tsdsr::testing

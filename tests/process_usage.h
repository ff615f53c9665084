// What a process holds, read from /proc (Linux): resident memory now and at its peak, threads and open files. For
// the tests that check that load leaves nothing behind.
#pragma once

#include <cstdint>
#include <string>

namespace tsdsr::testing {

struct ProcessUsage {
  std::int64_t rss_bytes = 0;   // VmRSS
  std::int64_t peak_bytes = 0;  // VmHWM: the most it was ever resident
  int threads = 0;
  int open_files = 0;  // entries of /proc/PID/fd
  bool ok = false;     // false when the process could not be read
};

ProcessUsage UsageOf(int pid);
// "rss 123.4 MiB, peak 130.0 MiB, 12 threads, 40 open files", for messages.
std::string Describe(const ProcessUsage& usage);

// Raises this process's open-file limit to `files` (at most its hard limit); the limit in force afterwards.
std::int64_t AllowOpenFiles(std::int64_t files);

}  // namespace tsdsr::testing

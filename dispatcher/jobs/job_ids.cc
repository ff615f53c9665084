#include "dispatcher/jobs/job_ids.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace tsdsr::dispatcher {
namespace {

constexpr size_t kIdBytes = 16;

}  // namespace

std::string NewJobId() {
  unsigned char bytes[kIdBytes];
  size_t filled = 0;
  while (filled < kIdBytes) {
    const ssize_t n = getrandom(bytes + filled, kIdBytes - filled, 0);
    if (n > 0) {
      filled += static_cast<size_t>(n);
    } else if (errno != EINTR) {
      spdlog::critical("getrandom failed: no random job ids can be made");
      std::abort();
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(2 * kIdBytes, '0');
  for (size_t i = 0; i < kIdBytes; ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return id;
}

bool IsJobId(std::string_view text) {
  if (text.size() != 2 * kIdBytes) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace tsdsr::dispatcher

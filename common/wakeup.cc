#include "common/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace tsdsr {

Wakeup::Wakeup() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) {
    std::perror("eventfd");
    std::abort();
  }
}

Wakeup::~Wakeup() { close(fd_); }

void Wakeup::Raise() {
  std::uint64_t one = 1;
  // A full counter (2^64-2 raises) or EAGAIN still leaves the fd readable, which is all that matters.
  [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof(one));
}

void Wakeup::Clear() {
  std::uint64_t value;
  [[maybe_unused]] ssize_t n = read(fd_, &value, sizeof(value));
}

}  // namespace tsdsr

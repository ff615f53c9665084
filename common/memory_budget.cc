#include "common/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace tsdsr {
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

MemoryBudget::Lease& MemoryBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::move(other.budget_);
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

bool MemoryBudget::Lease::TryGrow(std::int64_t bytes) {
  if (!budget_ || !budget_->Take(bytes)) return false;
  bytes_ += bytes;
  return true;
}

void MemoryBudget::Lease::Release() {
  if (budget_ && bytes_ != 0) budget_->used_.fetch_sub(bytes_);
  bytes_ = 0;
}

std::shared_ptr<MemoryBudget> MemoryBudget::Create(std::int64_t limit) {
  return std::shared_ptr<MemoryBudget>(new MemoryBudget(std::max<std::int64_t>(0, limit)));
}

std::optional<MemoryBudget::Lease> MemoryBudget::TryReserve(std::int64_t bytes) {
  if (!Take(bytes)) {
    refusals_.fetch_add(1);
    return std::nullopt;
  }
  return Lease(shared_from_this(), bytes);
}

MemoryBudget::Lease MemoryBudget::Force(std::int64_t bytes) {
  Add(bytes);
  return Lease(shared_from_this(), bytes);
}

bool MemoryBudget::Take(std::int64_t bytes) {
  std::int64_t used = used_.load();
  do {
    if (limit_ > 0 && used + bytes > limit_) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes));
  std::int64_t peak = peak_.load();
  while (used + bytes > peak && !peak_.compare_exchange_weak(peak, used + bytes)) {
  }
  return true;
}

void MemoryBudget::Add(std::int64_t bytes) {
  const std::int64_t now = used_.fetch_add(bytes) + bytes;
  std::int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
}

std::int64_t DefaultMemoryBudgetBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  std::int64_t memory = pages > 0 && page > 0 ? std::int64_t{pages} * page : 0;
  const std::int64_t cgroup = CgroupLimit();
  if (cgroup > 0 && (memory == 0 || cgroup < memory)) memory = cgroup;
  return std::max(kMinDefaultBudget, memory / 4);
}

std::int64_t WorkerJobBytes(std::int64_t payload_bytes, int input_width, int input_height, int scale) {
  constexpr std::int64_t kPerPixel = 3 + 3 * 4;  // 8-bit BGR, and float32 channels for the model
  const std::int64_t in = std::max<std::int64_t>(1, std::int64_t{input_width} * input_height);
  const std::int64_t out = in * scale * scale;
  return payload_bytes + in * kPerPixel + out * kPerPixel + out * 3;  // the last: the encoded answer, at worst raw
}

}  // namespace tsdsr

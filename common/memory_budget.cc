#include "common/memory_budget.h"

#include <algorithm>

namespace tsdsr {

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

}  // namespace tsdsr

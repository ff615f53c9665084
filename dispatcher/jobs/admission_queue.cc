#include "dispatcher/jobs/admission_queue.h"

#include <iterator>

namespace tsdsr::dispatcher {

void AdmissionQueue::Push(Entry entry) {
  Remove(entry.key);
  Order order{-entry.priority, entry.seq, entry.key};
  order_.insert(order);
  by_key_.emplace(std::move(entry.key), std::move(order));
}

std::optional<AdmissionQueue::Entry> AdmissionQueue::Pop() {
  if (order_.empty()) return std::nullopt;
  auto [negative_priority, seq, key] = *order_.begin();
  order_.erase(order_.begin());
  by_key_.erase(key);
  return Entry{std::move(key), -negative_priority, seq};
}

std::optional<AdmissionQueue::Entry> AdmissionQueue::Front() const {
  if (order_.empty()) return std::nullopt;
  const auto& [negative_priority, seq, key] = *order_.begin();
  return Entry{key, -negative_priority, seq};
}

bool AdmissionQueue::Remove(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  order_.erase(it->second);
  by_key_.erase(it);
  return true;
}

std::optional<size_t> AdmissionQueue::Position(const std::string& key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return static_cast<size_t>(std::distance(order_.begin(), order_.find(it->second)));
}

}  // namespace tsdsr::dispatcher

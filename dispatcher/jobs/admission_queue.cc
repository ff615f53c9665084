#include "dispatcher/jobs/admission_queue.h"

namespace tsdsr::dispatcher {

void AdmissionQueue::Push(Entry entry) {
  order_.Push({std::move(entry.key), std::move(entry.client), entry.priority, entry.seq});
}

void AdmissionQueue::PushAhead(Entry entry) {
  order_.PushAhead({std::move(entry.key), std::move(entry.client), entry.priority, entry.seq});
}

std::optional<AdmissionQueue::Entry> AdmissionQueue::Pop() {
  auto entry = order_.Pop();
  return entry ? std::optional<Entry>(From(*entry)) : std::nullopt;
}

std::optional<AdmissionQueue::Entry> AdmissionQueue::Front() const {
  auto entry = order_.Front();
  return entry ? std::optional<Entry>(From(*entry)) : std::nullopt;
}

bool AdmissionQueue::Remove(const std::string& key) { return order_.Remove(key); }

}  // namespace tsdsr::dispatcher

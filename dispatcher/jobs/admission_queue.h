// The jobs the dispatcher has accepted but not handed to the pool yet, in the order the pool should get them:
// higher priority first, then turns between clients (FairOrder), then the order they were accepted in. Pure state:
// not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "dispatcher/pool/fair_order.h"

namespace tsdsr::dispatcher {

class AdmissionQueue {
 public:
  struct Entry {
    std::string key;       // the owner's name for the job; unique within the queue
    int priority = 0;      // higher first
    std::int64_t seq = 0;  // lower first within a client's turn
    std::string client;    // whose turn it takes
  };

  // Adds `entry` behind its client's entries; an entry with the same key is replaced.
  void Push(Entry entry);
  // Adds `entry` ahead of every entry of its priority (one taken out that could not go after all).
  void PushAhead(Entry entry);
  // Removes and returns the first entry; nullopt when empty.
  std::optional<Entry> Pop();
  // The first entry, left in place; nullopt when empty.
  std::optional<Entry> Front() const;
  // True when `a` goes before `b` from two different queues (higher priority, then lower seq).
  static bool Before(const Entry& a, const Entry& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.seq < b.seq;
  }
  // Removes the entry with `key`; false when there is none.
  bool Remove(const std::string& key);
  // How many entries are ahead of `key`; nullopt when it is not queued.
  std::optional<size_t> Position(const std::string& key) const { return order_.Position(key); }
  // Entries per client.
  std::map<std::string, size_t> DepthByClient() const { return order_.DepthByClient(); }
  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }

 private:
  static Entry From(const FairOrder<std::string>::Entry& e) { return Entry{e.key, e.priority, e.seq, e.client}; }
  FairOrder<std::string> order_;
};

}  // namespace tsdsr::dispatcher

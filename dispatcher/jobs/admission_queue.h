// The jobs the dispatcher has accepted but not handed to the pool yet, in the order the pool should get them:
// higher priority first, then the order they were accepted in. Pure state: not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

namespace tsdsr::dispatcher {

class AdmissionQueue {
 public:
  struct Entry {
    std::string key;       // the owner's name for the job; unique within the queue
    int priority = 0;      // higher first
    std::int64_t seq = 0;  // lower first within a priority
  };

  // Adds `entry`; an entry with the same key is replaced.
  void Push(Entry entry);
  // Removes and returns the first entry; nullopt when empty.
  std::optional<Entry> Pop();
  // The first entry, left in place; nullopt when empty.
  std::optional<Entry> Front() const;
  // True when `a` goes before `b` (higher priority, then lower seq).
  static bool Before(const Entry& a, const Entry& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.seq < b.seq;
  }
  // Removes the entry with `key`; false when there is none.
  bool Remove(const std::string& key);
  // How many entries are ahead of `key`; nullopt when it is not queued.
  std::optional<size_t> Position(const std::string& key) const;
  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }

 private:
  using Order = std::tuple<int, std::int64_t, std::string>;  // -priority, seq, key
  std::set<Order> order_;
  std::map<std::string, Order> by_key_;
};

}  // namespace tsdsr::dispatcher

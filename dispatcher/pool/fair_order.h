// The order in which queued work is served: higher priority first, and within a priority level, turns between
// clients, so that a client with a thousand queued jobs delays another client's job by about one job, not a
// thousand. Each entry gets a round: a client's first entry the next round of its level, each further one the
// round after its previous entry. Entries are served by (priority, round, arrival), so every client with work
// gets one entry served per round. Pure state, not thread-safe; every operation is logarithmic except Position and
// the ordered scan of FindFirst, which are linear.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace tsdsr::dispatcher {

template <typename Key>
class FairOrder {
 public:
  struct Entry {
    Key key{};             // unique within the order
    std::string client;    // whose turn it takes; empty is a client like any other
    int priority = 0;      // higher first
    std::int64_t seq = 0;  // arrival: earlier first within a round
  };

  // Adds `entry` behind its client's other entries of its priority; an entry with the same key is replaced.
  void Push(Entry entry) { Insert(std::move(entry), /*ahead=*/false); }
  // Adds `entry` ahead of every entry of its priority (work given back by a lost worker).
  void PushAhead(Entry entry) { Insert(std::move(entry), /*ahead=*/true); }

  // The entry served next, left in place; nullopt when empty.
  std::optional<Entry> Front() const {
    if (order_.empty()) return std::nullopt;
    return by_key_.at(std::get<3>(*order_.begin())).entry;
  }
  // Removes and returns the entry served next; nullopt when empty.
  std::optional<Entry> Pop() {
    auto front = Front();
    if (front) Take(front->key);
    return front;
  }
  // Removes and returns the first entry, in serving order, whose key satisfies `accept`; nullopt when none does.
  template <typename Accept>
  std::optional<Entry> TakeFirst(Accept&& accept) {
    for (const auto& order : order_) {
      if (accept(std::get<3>(order))) return Take(std::get<3>(order));
    }
    return std::nullopt;
  }
  // Removes and returns the entry with `key`, marking its round served; nullopt when there is none.
  std::optional<Entry> Take(const Key& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    Entry entry = it->second.entry;
    Level& level = levels_[entry.priority];
    level.served = std::max(level.served, std::get<1>(it->second.order));
    Erase(it);
    return entry;
  }
  // Removes the entry with `key` without serving it; false when there is none.
  bool Remove(const Key& key) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    Erase(it);
    return true;
  }
  // How many entries are served before `key`; nullopt when it is not queued.
  std::optional<size_t> Position(const Key& key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    return static_cast<size_t>(std::distance(order_.begin(), order_.find(it->second.order)));
  }
  // Every key in serving order, calling `visit(key)` until it returns false.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (const auto& order : order_) {
      if (!visit(std::get<3>(order))) return;
    }
  }
  // Queued entries per client, every priority together.
  std::map<std::string, size_t> DepthByClient() const {
    std::map<std::string, size_t> depth;
    for (const auto& [priority, level] : levels_) {
      for (const auto& [client, state] : level.clients) depth[client] += state.queued;
    }
    return depth;
  }
  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }

 private:
  using Order = std::tuple<int, std::int64_t, std::int64_t, Key>;  // -priority, round, seq, key
  struct Stored {
    Entry entry;
    Order order;
  };
  struct ClientState {
    std::int64_t last_round = 0;  // of its latest entry
    size_t queued = 0;
  };
  struct Level {
    std::int64_t served = 0;  // the latest round served
    std::map<std::string, ClientState> clients;  // only clients with queued entries
  };

  void Insert(Entry entry, bool ahead) {
    Remove(entry.key);
    Level& level = levels_[entry.priority];
    ClientState& client = level.clients[entry.client];
    std::int64_t round = FirstRound(entry.priority) - 1;  // ahead: before every round still to serve
    if (!ahead) {
      round = std::max(level.served + 1, client.queued > 0 ? client.last_round + 1 : 0);
      client.last_round = round;
    }
    client.queued += 1;
    Order order{-entry.priority, round, entry.seq, entry.key};
    order_.insert(order);
    Key key = entry.key;
    by_key_.emplace(std::move(key), Stored{std::move(entry), std::move(order)});
  }

  // The lowest round queued at `priority`, or the round after the served one when none is.
  std::int64_t FirstRound(int priority) const {
    auto first = order_.lower_bound(Order{-priority, std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::min(), Key{}});
    if (first != order_.end() && std::get<0>(*first) == -priority) return std::get<1>(*first);
    auto level = levels_.find(priority);
    return (level == levels_.end() ? 0 : level->second.served) + 1;
  }

  void Erase(typename std::map<Key, Stored>::iterator it) {
    auto level = levels_.find(it->second.entry.priority);
    auto client = level->second.clients.find(it->second.entry.client);
    if (--client->second.queued == 0) level->second.clients.erase(client);
    order_.erase(it->second.order);
    by_key_.erase(it);
  }

  std::set<Order> order_;
  std::map<Key, Stored> by_key_;
  std::map<int, Level> levels_;  // by priority; a level's served round outlives its entries
};

}  // namespace tsdsr::dispatcher

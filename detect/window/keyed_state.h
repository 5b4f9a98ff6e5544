// Per-key detector state with a bound: at most `max_keys` keys; beyond that the least recently
// seen (in event time) are evicted and counted. V must have an `absl::Time last_seen` member; if it
// has `bool open() const` (an incident with a firing alert), open keys are evicted last, so their
// alerts still resolve.
// Eviction is amortized: it sorts out the oldest tenth at once instead of keeping an LRU list
// (which would cost a pointer chase and two writes per event).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "core/strings.h"

namespace faultline {

// Key: std::string (looked up by std::string_view, no allocation for a key already present) or an
// integer such as a 64-bit hash (no allocation at all).
template <typename V, typename Key = std::string>
class KeyedState {
  static constexpr bool kStringKey = std::is_same_v<Key, std::string>;
  using Lookup = std::conditional_t<kStringKey, std::string_view, Key>;
  static auto Native(Lookup key) {
    if constexpr (kStringKey) {
      return ToAbsl(key);
    } else {
      return key;
    }
  }

 public:
  explicit KeyedState(size_t max_keys) : max_keys_(std::max<size_t>(max_keys, 1)) {}

  V* Find(Lookup key) {
    auto it = map_.find(Native(key));
    return it == map_.end() ? nullptr : &it->second;
  }
  const V* Find(Lookup key) const {
    auto it = map_.find(Native(key));
    return it == map_.end() ? nullptr : &it->second;
  }

  // Finds the key or creates it from `args`; evicts first when the map is full. The pointer is
  // valid until the next call that may insert.
  template <typename... Args>
  std::pair<V*, bool> FindOrCreate(Lookup key, Args&&... args) {
    if (V* v = Find(key)) return {v, false};
    if (map_.size() >= max_keys_) EvictOldest();
    auto [it, inserted] = map_.try_emplace(Key(key), std::forward<Args>(args)...);
    return {&it->second, inserted};
  }

  // Visits every key; `fn(key, value)` returns true to erase it.
  template <typename F>
  void EraseIf(F fn) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (fn(it->first, it->second)) {
        map_.erase(it++);
      } else {
        ++it;
      }
    }
  }

  size_t size() const { return map_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  void EvictOldest() {
    // Ordered by (open, last seen): idle keys first, the oldest of them first.
    std::vector<std::tuple<bool, absl::Time, const Key*>> by_age;
    by_age.reserve(map_.size());
    for (const auto& entry : map_) {
      const V& v = entry.second;
      bool open = false;
      if constexpr (requires { v.open(); }) open = v.open();
      by_age.emplace_back(open, v.last_seen, &entry.first);
    }
    const size_t n = std::max<size_t>(1, map_.size() / 10);
    std::nth_element(by_age.begin(), by_age.begin() + static_cast<ptrdiff_t>(n - 1), by_age.end());
    std::vector<Key> victims;
    for (size_t i = 0; i < n; ++i) victims.push_back(*std::get<2>(by_age[i]));
    for (const Key& k : victims) map_.erase(k);
    evictions_ += n;
  }

  size_t max_keys_;
  absl::flat_hash_map<Key, V> map_;
  uint64_t evictions_ = 0;
};

}  // namespace faultline

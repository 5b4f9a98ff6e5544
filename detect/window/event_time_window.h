// A sliding window in event time: entries kept sorted by time, and everything older than
// `width` before the newest entry dropped. Out-of-order arrivals are inserted in place, so a
// late event inside the window counts exactly like an on-time one. Small and flat on purpose:
// per-key windows hold a handful of entries (rapid-fail counts to 5).
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace faultline {

template <typename T>
class EventTimeWindow {
 public:
  struct Entry {
    absl::Time time;
    T value;
  };

  explicit EventTimeWindow(absl::Duration width, size_t max_entries = 256)
      : width_(width), max_entries_(max_entries) {}

  // Inserts in time order, then drops what fell out of the window. Returns the entry, or
  // nullptr when `time` is itself already outside the window (too old to count).
  T* Add(absl::Time time, T value) {
    if (!entries_.empty() && time <= entries_.back().time - width_) return nullptr;
    auto it = std::upper_bound(entries_.begin(), entries_.end(), time,
                               [](absl::Time t, const Entry& e) { return t < e.time; });
    // Two statements: in `insert(...) - begin()` begin() may be read before insert reallocates.
    it = entries_.insert(it, Entry{time, std::move(value)});
    const auto index = static_cast<size_t>(it - entries_.begin());
    size_t dropped = AdvanceTo(entries_.back().time);
    if (entries_.size() > max_entries_) {  // bound memory under a storm: the oldest go first
      entries_.erase(entries_.begin());
      ++dropped;
    }
    return index < dropped ? nullptr : &entries_[index - dropped].value;
  }

  // Drops entries outside the window ending at `now` (for callers that learn the time from an
  // event that is not itself an entry). Returns how many were dropped.
  size_t AdvanceTo(absl::Time now) {
    size_t n = 0;
    while (n < entries_.size() && entries_[n].time <= now - width_) ++n;
    entries_.erase(entries_.begin(), entries_.begin() + n);
    return n;
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  absl::Duration width() const { return width_; }

 private:
  absl::Duration width_;
  size_t max_entries_;
  std::vector<Entry> entries_;
};

}  // namespace faultline

// The life of one rule's alert within one incident, in event time: fired once, re-notified as
// its count grows at most every re-notify interval, resolved once. Detectors keep one AlertState
// per rule per incident key and ask it what to emit; alerts of one incident share its incident id.
#pragma once

#include <cstdint>

#include "absl/time/time.h"

namespace faultline {

class AlertState {
 public:
  enum class Action { kNone, kFire, kUpdate };

  // What to emit for the rule's condition holding with `count` at `now`.
  Action Observe(uint32_t count, absl::Time now, absl::Duration renotify) {
    if (!firing_) {
      firing_ = true;
      notified_count_ = count;
      notified_at_ = now;
      sequence_ = 1;
      return Action::kFire;
    }
    if (count > notified_count_ && now - notified_at_ >= renotify) {
      notified_count_ = count;
      notified_at_ = now;
      ++sequence_;
      return Action::kUpdate;
    }
    return Action::kNone;
  }

  // Whether Observe(count, now, renotify) would return kUpdate, without recording anything: lets a
  // detector make its count exact (costly) only when it is about to be reported.
  bool WouldUpdate(uint32_t count, absl::Time now, absl::Duration renotify) const {
    return firing_ && count > notified_count_ && now - notified_at_ >= renotify;
  }

  // True once when a firing alert resolves.
  bool Resolve() {
    if (!firing_) return false;
    firing_ = false;
    ++sequence_;
    return true;
  }

  bool firing() const { return firing_; }
  // The number of the last notification of this incident: 1 = fired, then one per update and
  // one for the resolution (Alert.sequence).
  uint32_t sequence() const { return sequence_; }

 private:
  bool firing_ = false;
  uint32_t notified_count_ = 0;
  absl::Time notified_at_ = absl::InfinitePast();
  uint32_t sequence_ = 0;
};

}  // namespace faultline

// The only door to wall-clock time. Detectors never read a clock (they run in event time); code
// that must ask the time (commit timers, retry backoff, latency metrics) takes a Clock&. Only
// main passes RealClock; tests pass core/testing/fake_clock.h.
#pragma once

#include "absl/time/time.h"

namespace faultline {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time TimeNow() = 0;
  // Blocks the calling thread for `d` (real clock) or advances time (fake clock).
  virtual void SleepFor(absl::Duration d) = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time TimeNow() override;
  void SleepFor(absl::Duration d) override;
  static Clock& Get();
};

}  // namespace faultline

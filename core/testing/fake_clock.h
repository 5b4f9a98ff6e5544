// A Clock for tests: time moves only when the test says so, and SleepFor advances it instead
// of blocking.
#pragma once

#include <atomic>

#include "core/clock.h"

namespace faultline {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time TimeNow() override { return now_.load(); }
  void SleepFor(absl::Duration d) override { Advance(d); }
  void Advance(absl::Duration d) { now_.store(now_.load() + d); }

 private:
  std::atomic<absl::Time> now_;
};

}  // namespace faultline

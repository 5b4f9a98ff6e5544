// Waiting in tests for what another thread or process does: polls `done` on the real clock
// until it holds or `timeout` passes, so a test is bounded and never sleeps longer than needed.
#pragma once

#include <functional>

#include "absl/time/time.h"
#include "core/clock.h"

namespace faultline::testing {

inline bool Eventually(const std::function<bool()>& done,
                       absl::Duration timeout = absl::Seconds(10),
                       absl::Duration step = absl::Milliseconds(10)) {
  const absl::Time deadline = RealClock::Get().TimeNow() + timeout;
  while (RealClock::Get().TimeNow() < deadline) {
    if (done()) return true;
    RealClock::Get().SleepFor(step);
  }
  return done();
}

}  // namespace faultline::testing

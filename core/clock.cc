#include "core/clock.h"

#include "absl/time/clock.h"

namespace faultline {

absl::Time RealClock::TimeNow() { return absl::Now(); }

void RealClock::SleepFor(absl::Duration d) { absl::SleepFor(d); }

Clock& RealClock::Get() {
  static RealClock clock;
  return clock;
}

}  // namespace faultline

// absl::Time as int64 Unix nanoseconds, computed inline. Debian's Abseil is a shared library:
// every absl::Time sum, difference or ToUnixNanos is a call into it, and on the engine's
// per-event path (every message, whatever a detector wants) those calls were a measurable share
// of its cost (BENCHMARKS.md, detect stage). Infinite times map to the int64 limits.
#pragma once

#include <cstdint>
#include <limits>

#include "absl/time/time.h"

namespace faultline {

// A duration in nanoseconds; infinite ones map to the int64 limits, as do those beyond them.
inline int64_t Nanos(absl::Duration d) {
  const int64_t seconds = absl::time_internal::GetRepHi(d);
  const uint32_t quarters = absl::time_internal::GetRepLo(d);  // of a nanosecond
  if (quarters == ~uint32_t{0} || seconds > 9'223'372'035 || seconds < -9'223'372'035) {
    return seconds < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return seconds * 1'000'000'000 + quarters / 4;
}

inline int64_t UnixNanos(absl::Time t) { return Nanos(absl::time_internal::ToUnixDuration(t)); }

// Back to absl::Time, the int64 limits to the infinities.
inline absl::Time FromUnixNanosOrInfinite(int64_t ns) {
  if (ns == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  if (ns == std::numeric_limits<int64_t>::max()) return absl::InfiniteFuture();
  return absl::FromUnixNanos(ns);
}

// Sums and differences of nanoseconds that stop at the int64 limits, as absl's do at infinity.
inline int64_t AddNanos(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}
inline int64_t SubNanos(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

}  // namespace faultline

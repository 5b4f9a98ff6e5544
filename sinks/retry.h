// How long the dispatcher waits before it delivers a batch again after a retryable failure
// (Sink::Deliver said kUnavailable, kDeadlineExceeded or kResourceExhausted): a pure function,
// so the policy is tested apart from threads and clocks.
//
//   ceiling = min(backoff_max, backoff * 2^attempt)        exponential, capped
//   wait    = ceiling/2 + ceiling/2 * jitter                "equal jitter": restarts do not
//                                                           retry in step, never below half
//   wait    = max(wait, min(retry_after, retry_after_max))  a peer's Retry-After is honoured,
//                                                           up to a bound
#pragma once

#include <optional>

#include "absl/time/time.h"

namespace faultline {

struct RetryPolicy {
  absl::Duration backoff = absl::Seconds(1);
  absl::Duration backoff_max = absl::Minutes(1);
  absl::Duration retry_after_max = absl::Minutes(10);
};

// `attempt`: 0 for the first retry; `jitter`: uniform in [0, 1).
absl::Duration RetryWait(const RetryPolicy& policy, int attempt,
                         std::optional<absl::Duration> retry_after, double jitter);

}  // namespace faultline

#include "sinks/retry.h"

#include <algorithm>
#include <cstdint>

namespace faultline {

absl::Duration RetryWait(const RetryPolicy& policy, int attempt,
                         std::optional<absl::Duration> retry_after, double jitter) {
  const int doublings = std::clamp(attempt, 0, 20);  // 2^20 seconds is past any cap
  const absl::Duration ceiling =
      std::min(policy.backoff_max, policy.backoff * (int64_t{1} << doublings));
  absl::Duration wait = ceiling / 2 + ceiling / 2 * std::clamp(jitter, 0.0, 1.0);
  if (retry_after) wait = std::max(wait, std::min(*retry_after, policy.retry_after_max));
  return wait;
}

}  // namespace faultline

// A Sink delivers alerts to one destination (stdout, a file, a webhook, Alertmanager, a Kafka
// topic). Sinks never run on the detect thread: the Dispatcher (dispatcher.h) gives each one its
// own bounded queue and worker thread, calls Deliver() there, and retries with backoff what the
// sink reports as retryable. A sink therefore may block, up to its own timeouts.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/alert.h"

namespace faultline {

class Sink {
 public:
  virtual ~Sink() = default;

  // Delivers `alerts` (1 to max_batch(), oldest first) and returns once the destination has them.
  // Called on the sink's worker thread only. Errors:
  //   kUnavailable, kDeadlineExceeded, kResourceExhausted: not delivered, try again later (peer
  //     down, timeout, HTTP 5xx/408/429); RetryAfter() may say how long the peer asked to wait.
  //     The dispatcher retries the same batch, so delivery must be idempotent per batch.
  //   anything else (kInvalidArgument, kPermissionDenied, ...): the destination refused these
  //     alerts for good (HTTP 400); they are counted as failed and not retried.
  virtual absl::Status Deliver(absl::Span<const Alert* const> alerts) = 0;

  // How many alerts one Deliver() call may carry.
  virtual size_t max_batch() const { return 1; }

  // Called on the worker thread at least once a second while its queue is empty: periodic work
  // such as Alertmanager's resend of firing alerts. Must not block longer than a delivery.
  virtual void Tick(absl::Time /*now*/) {}
};

// Whether the dispatcher should try `status` again (see Sink::Deliver).
bool IsRetryable(const absl::Status& status);

// `status` carrying how long the peer asked to wait before the next attempt (HTTP Retry-After).
absl::Status WithRetryAfter(absl::Status status, absl::Duration wait);
std::optional<absl::Duration> RetryAfter(const absl::Status& status);

}  // namespace faultline

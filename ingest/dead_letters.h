// Where rejected messages go so that nothing is silently lost: the original bytes, with why they
// were rejected and where they came from. Implementation: kafka/dead_letter_producer.h.
#pragma once

#include <atomic>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/delivery.h"
#include "ingest/parse/parse_error.h"
#include "ingest/source.h"

namespace faultline {

// Written by librdkafka's delivery reports and the detect thread, read by metrics.
struct DeadLetterStats {
  std::atomic<uint64_t> queued{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};   // refused for good by the broker (too large, forbidden)
  std::atomic<uint64_t> retried{0};  // produced again after a failure a retry can fix
  std::atomic<uint64_t> dropped{0};  // the local queue was full
};

class DeadLetters {
 public:
  virtual ~DeadLetters() = default;
  // Queues one rejected message; `ticket` expects one delivery and is done once the dead letter
  // is delivered (or refused, counted). Called on the detect thread: never blocks; when the
  // producer's queue is full the message is dropped and counted (the ticket done at once).
  virtual void Publish(const Message& message, ParseError reason,
                       const std::shared_ptr<DeliveryTicket>& ticket) = 0;
  // True while so many dead letters are on their way that the source should pause.
  virtual bool Saturated() const = 0;
  // Serves delivery reports without blocking; the source thread calls it about once a second.
  virtual void Poll() = 0;
  // Waits until everything queued is delivered, or `timeout` passes (kDeadlineExceeded).
  virtual absl::Status Flush(absl::Duration timeout) = 0;
  virtual const DeadLetterStats& stats() const = 0;
};

}  // namespace faultline

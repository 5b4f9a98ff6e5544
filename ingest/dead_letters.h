// Where rejected messages go so that nothing is silently lost: the original bytes, with why they
// were rejected and where they came from. Implementation: kafka/dead_letter_producer.h.
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ingest/parse/parse_error.h"
#include "ingest/source.h"

namespace faultline {

class DeadLetters {
 public:
  virtual ~DeadLetters() = default;
  // Queues one rejected message. Called on the detect thread: never blocks; when its queue is
  // full the message is dropped and counted.
  virtual void Publish(const Message& message, ParseError reason) = 0;
  // Waits until everything queued is delivered, or `timeout` passes (kDeadlineExceeded).
  virtual absl::Status Flush(absl::Duration timeout) = 0;
};

}  // namespace faultline

// A Source delivers raw forwarder messages, one at a time and in order within a partition, to a
// MessageHandler on the source's own thread, and decides when processed input is committed.
// Implementations: kafka/ (consumer group member) and file/ (JSON lines from files or stdin).
#pragma once

#include <atomic>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/event.h"

namespace faultline {

struct Message {
  std::string_view payload;  // valid only during OnMessage
  std::string_view key;
  std::string_view topic;  // Kafka topic; empty for files
  Origin origin;
  absl::Time broker_time = absl::InfinitePast();  // Kafka append/create time when known
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Called for each message. When it returns, the message is fully processed (parsed, detected,
  // alerts handed on), so the source may commit past it. Must not throw.
  virtual void OnMessage(const Message& message) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Delivers messages until the input ends or `stop` becomes true, commits what was processed,
  // and returns. Blocks the calling thread. Errors: kNotFound / kPermissionDenied for inputs that
  // cannot be opened, kUnavailable / kInternal for a consumer that cannot go on.
  virtual absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) = 0;
};

}  // namespace faultline

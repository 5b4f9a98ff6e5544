// A Source delivers raw forwarder messages, one at a time and in order within a partition, to a
// MessageHandler on the source's own thread, and decides when processed input is committed.
// Implementations: kafka/ (consumer group member) and file/ (JSON lines from files or stdin).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/delivery.h"
#include "core/event.h"

namespace faultline {

struct TopicPartition {
  std::string topic;
  int32_t partition = -1;
  int64_t end = -1;  // OnPartitionEnd: the end's offset (what the next message will have)
};

struct Message {
  std::string_view payload;  // valid only during OnMessage
  std::string_view key;
  std::string_view topic;  // Kafka topic; empty for files
  Origin origin;           // with the Kafka timestamp, and whether it is read again (replayed)
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Called for each message; must not block or throw. Returns null when the message is fully
  // processed, or the ticket of the deliveries it started (its alerts, its dead letter): the
  // source commits past the message only once the ticket is done.
  virtual std::shared_ptr<const DeliveryTicket> OnMessage(const Message& message) = 0;
  // True while the handler cannot take more without exceeding its bounds (a full sink queue):
  // the source delivers nothing until it turns false (the Kafka source pauses its partitions and
  // keeps polling, so it stays in the group).
  virtual bool Saturated() const { return false; }
  // Called on the source thread about once a second, whether messages arrive or not.
  virtual void Tick() {}
  // A consumer's partitions (none for files), on the source thread: assigned to this member,
  // revoked from it, or read to their current end (nothing more there for now). The engine's
  // arrival clock waits for an assigned partition until it delivers or reaches its end.
  virtual void OnPartitionsAssigned(const std::vector<TopicPartition>& /*partitions*/) {}
  virtual void OnPartitionsRevoked(const std::vector<TopicPartition>& /*partitions*/) {}
  virtual void OnPartitionEnd(const TopicPartition& /*partition*/) {}
  // The Kafka time (Unix ms) a restore of `partition` from a commit at `offset` must read back
  // to, so that what is still open there (an incident that began long before) is rebuilt whole;
  // -1: nothing open. Asked at each commit; what the commit passed is forgotten. The source
  // bounds how far back it reads.
  virtual int64_t RestoreFrom(const TopicPartition& /*partition*/, int64_t /*offset*/) {
    return -1;
  }
  // False while records it produced to a topic the source may read (the pool topic) are still on
  // their way: a source stopping at the end of its input waits for them.
  virtual bool Settled() { return true; }
  // The source has delivered its last message (input ended or a stop was requested): finish the
  // work in flight, within the handler's own deadline. The source then commits what is done.
  virtual void Drain() {}
};

class Source {
 public:
  virtual ~Source() = default;
  // Delivers messages until the input ends or `stop` becomes true, drains the handler, commits
  // what was processed, and returns. Blocks the calling thread. Errors: kNotFound /
  // kPermissionDenied for inputs that cannot be opened, kUnavailable / kInternal for a consumer
  // that cannot go on.
  virtual absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) = 0;
};

}  // namespace faultline

// Remembers, per assigned partition, how far messages were processed and which of them still
// have deliveries in flight (their DeliveryTicket not done), and hands out the offsets to commit:
// the first message whose deliveries are not finished, else the one after the last processed.
// So a commit never passes an unprocessed event, nor an event whose alerts are not yet
// delivered or durably queued.
//
// Owned and used by the consumer thread only (the rebalance callback runs on it too, inside
// rd_kafka_consumer_poll); tickets are completed on other threads, read here through done().
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/delivery.h"

namespace faultline {

class OffsetTracker {
 public:
  struct Commit {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = -1;    // to commit: the next message to read after a restart
    int64_t previous = -1;  // what was committed before, restored if this commit fails
    // The Kafka timestamp (ms) of the message at `offset`, or of the last one processed when
    // that is the next to come; -1 unknown. Committed as metadata: a restore starts from it.
    int64_t timestamp_ms = -1;
  };
  struct Position {
    std::string topic;
    int32_t partition = 0;
    int64_t processed = -1;  // the offset after the last processed message
    int64_t committed = -1;  // the last offset handed out for a commit
    size_t in_flight = 0;    // messages whose deliveries are not finished
  };

  // `ticket` (may be null) holds the commit at `offset` until it is done. `timestamp_ms`: the
  // message's Kafka timestamp (-1 unknown).
  void MarkProcessed(std::string_view topic, int32_t partition, int64_t offset,
                     std::shared_ptr<const DeliveryTicket> ticket = nullptr,
                     int64_t timestamp_ms = -1);
  // A delivery started by a message read again from before `offset` (a restore): holds the
  // commit at `offset`, the committed position, until `ticket` is done.
  void Hold(std::string_view topic, int32_t partition, int64_t offset, int64_t timestamp_ms,
            std::shared_ptr<const DeliveryTicket> ticket);
  // The partitions whose commit position moved since they were last taken.
  std::vector<Commit> TakeDirty();
  // A commit failed: its partitions (those still held) are taken again next time.
  void Restore(const std::vector<Commit>& commits);
  void Forget(std::string_view topic, int32_t partition);
  std::vector<Position> Positions();

 private:
  struct Entry {
    std::string topic;
    int32_t partition = 0;
    int64_t next_offset = -1;
    int64_t last_timestamp_ms = -1;  // of the last processed message
    int64_t committed = -1;
    // Processed messages with deliveries in flight, oldest first.
    struct Hold {
      int64_t offset;
      int64_t timestamp_ms;
      std::shared_ptr<const DeliveryTicket> ticket;
    };
    std::deque<Hold> holds;
    // Where a commit may go now: before the oldest unfinished delivery, else after the last
    // processed message; and the timestamp that goes with it.
    int64_t CommitPosition(int64_t* timestamp_ms = nullptr);
  };
  Entry& Find(std::string_view topic, int32_t partition);

  // A consumer holds few partitions and a poll batch usually stays on one: a linear scan with
  // a last-hit shortcut beats hashing the topic name per message.
  std::vector<Entry> entries_;
  size_t last_ = 0;
};

}  // namespace faultline

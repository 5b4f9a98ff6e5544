// Remembers, per assigned partition, the offset after the last fully processed message, and
// hands out the ones that changed since the last commit. Offsets enter it only after the
// MessageHandler returned, so a commit never passes an unprocessed event. Owned and used by the
// consumer thread only (the rebalance callback runs on it too, inside rd_kafka_consumer_poll).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

class OffsetTracker {
 public:
  struct Entry {
    std::string topic;
    int32_t partition = 0;
    int64_t next_offset = -1;  // the offset to commit: last processed + 1
    bool dirty = false;        // changed since last taken for a commit
  };

  void MarkProcessed(std::string_view topic, int32_t partition, int64_t offset);
  // Entries changed since the last call; clears their dirty flag.
  std::vector<Entry> TakeDirty();
  // Puts entries back as dirty (a commit failed and must be retried).
  void Restore(const std::vector<Entry>& entries);
  void Forget(std::string_view topic, int32_t partition);
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  Entry& Find(std::string_view topic, int32_t partition);
  // A consumer holds few partitions and a poll batch usually stays on one: a linear scan with
  // a last-hit shortcut beats hashing the topic name per message.
  std::vector<Entry> entries_;
  size_t last_ = 0;
};

}  // namespace faultline

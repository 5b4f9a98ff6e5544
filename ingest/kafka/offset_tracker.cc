#include "ingest/kafka/offset_tracker.h"

#include <algorithm>

namespace faultline {

OffsetTracker::Entry& OffsetTracker::Find(std::string_view topic, int32_t partition) {
  if (last_ < entries_.size() && entries_[last_].partition == partition &&
      entries_[last_].topic == topic) {
    return entries_[last_];
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].partition == partition && entries_[i].topic == topic) {
      last_ = i;
      return entries_[i];
    }
  }
  entries_.push_back(Entry{.topic = std::string(topic), .partition = partition});
  last_ = entries_.size() - 1;
  return entries_.back();
}

void OffsetTracker::MarkProcessed(std::string_view topic, int32_t partition, int64_t offset) {
  Entry& e = Find(topic, partition);
  if (offset + 1 > e.next_offset) {
    e.next_offset = offset + 1;
    e.dirty = true;
  }
}

std::vector<OffsetTracker::Entry> OffsetTracker::TakeDirty() {
  std::vector<Entry> out;
  for (Entry& e : entries_) {
    if (e.dirty) {
      out.push_back(e);
      e.dirty = false;
    }
  }
  return out;
}

void OffsetTracker::Restore(const std::vector<Entry>& entries) {
  // Only partitions still held: a revoked partition's offsets belong to its new owner now.
  for (const Entry& r : entries) {
    for (Entry& e : entries_) {
      if (e.partition == r.partition && e.topic == r.topic) e.dirty = true;
    }
  }
}

void OffsetTracker::Forget(std::string_view topic, int32_t partition) {
  std::erase_if(entries_,
                [&](const Entry& e) { return e.partition == partition && e.topic == topic; });
  last_ = 0;
}

}  // namespace faultline

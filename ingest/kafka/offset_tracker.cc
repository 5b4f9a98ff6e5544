#include "ingest/kafka/offset_tracker.h"

#include <algorithm>

namespace faultline {

int64_t OffsetTracker::Entry::CommitPosition() {
  while (!holds.empty() && holds.front().second->done()) holds.pop_front();
  return holds.empty() ? next_offset : holds.front().first;
}

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

void OffsetTracker::MarkProcessed(std::string_view topic, int32_t partition, int64_t offset,
                                  std::shared_ptr<const DeliveryTicket> ticket) {
  Entry& e = Find(topic, partition);
  if (offset + 1 <= e.next_offset) return;  // a redelivered older message
  e.next_offset = offset + 1;
  if (ticket != nullptr && !ticket->done()) e.holds.emplace_back(offset, std::move(ticket));
}

std::vector<OffsetTracker::Commit> OffsetTracker::TakeDirty() {
  std::vector<Commit> out;
  for (Entry& e : entries_) {
    const int64_t position = e.CommitPosition();
    if (position > e.committed) {
      out.push_back({.topic = e.topic,
                     .partition = e.partition,
                     .offset = position,
                     .previous = e.committed});
      e.committed = position;
    }
  }
  return out;
}

void OffsetTracker::Restore(const std::vector<Commit>& commits) {
  // Only partitions still held: a revoked partition's offsets belong to its new owner now.
  for (const Commit& c : commits) {
    for (Entry& e : entries_) {
      if (e.partition == c.partition && e.topic == c.topic && e.committed == c.offset) {
        e.committed = c.previous;
      }
    }
  }
}

void OffsetTracker::Forget(std::string_view topic, int32_t partition) {
  std::erase_if(entries_,
                [&](const Entry& e) { return e.partition == partition && e.topic == topic; });
  last_ = 0;
}

std::vector<OffsetTracker::Position> OffsetTracker::Positions() {
  std::vector<Position> out;
  for (Entry& e : entries_) {
    e.CommitPosition();  // drops finished holds
    out.push_back({.topic = e.topic,
                   .partition = e.partition,
                   .processed = e.next_offset,
                   .committed = e.committed,
                   .in_flight = e.holds.size()});
  }
  return out;
}

}  // namespace faultline

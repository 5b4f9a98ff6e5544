#include "ingest/kafka/offset_tracker.h"

#include <algorithm>

namespace faultline {

int64_t OffsetTracker::Entry::CommitPosition(int64_t* timestamp_ms) {
  while (!holds.empty() && holds.front().ticket->done()) holds.pop_front();
  if (timestamp_ms != nullptr) {
    *timestamp_ms = holds.empty() ? last_timestamp_ms : holds.front().timestamp_ms;
  }
  return holds.empty() ? next_offset : holds.front().offset;
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
                                  std::shared_ptr<const DeliveryTicket> ticket,
                                  int64_t timestamp_ms) {
  Entry& e = Find(topic, partition);
  if (offset + 1 <= e.next_offset) return;  // a redelivered older message
  e.next_offset = offset + 1;
  e.last_timestamp_ms = timestamp_ms;
  if (ticket != nullptr && !ticket->done()) {
    e.holds.push_back(
        {.offset = offset, .timestamp_ms = timestamp_ms, .ticket = std::move(ticket)});
  }
}

void OffsetTracker::Hold(std::string_view topic, int32_t partition, int64_t offset,
                         int64_t timestamp_ms, std::shared_ptr<const DeliveryTicket> ticket) {
  if (ticket == nullptr || ticket->done()) return;
  Entry& e = Find(topic, partition);
  // Before anything processed after the restore, so the holds stay in offset order.
  if (e.next_offset > offset) return;
  e.holds.push_back({.offset = offset, .timestamp_ms = timestamp_ms, .ticket = std::move(ticket)});
}

std::vector<OffsetTracker::Commit> OffsetTracker::TakeDirty() {
  std::vector<Commit> out;
  for (Entry& e : entries_) {
    int64_t timestamp_ms = -1;
    const int64_t position = e.CommitPosition(&timestamp_ms);
    if (position > e.committed) {
      out.push_back({.topic = e.topic,
                     .partition = e.partition,
                     .offset = position,
                     .previous = e.committed,
                     .timestamp_ms = timestamp_ms});
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

// Runs the detectors in event time. For each normalized event it
//   1. advances the event time of the event's partition; an event older than that partition's
//      newest by more than the allowed lateness, or older than the watermark detectors have
//      already seen (a partition lagging the others), is too late: counted, dropped, so it cannot
//      reopen a closed incident; late events inside the allowance are processed normally;
//   2. routes the event to the detectors that subscribed to its (provider, event id) (one hash
//      lookup; most events have none);
//   3. drops repeats: the same (host, channel, record id) within the dedupe window is a forwarder
//      redelivery and must not count twice (only routed events are remembered);
//   4. every `tick` of event time, tells every detector the watermark (newest event time less the
//      allowed lateness) so incidents resolve when their window drains.
// Owns the detectors. Single-threaded: one Engine per detect thread.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "detect/detector.h"

namespace faultline {

struct EngineOptions {
  absl::Duration dedupe_window = absl::Minutes(10);
  absl::Duration allowed_lateness = absl::Minutes(2);
  absl::Duration tick = absl::Seconds(30);
};

class Engine {
 public:
  explicit Engine(std::vector<std::unique_ptr<Detector>> detectors, EngineOptions options = {});

  void Process(const Event& event, AlertOutput& out);

  const std::vector<std::unique_ptr<Detector>>& detectors() const { return detectors_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t too_late() const { return too_late_; }
  size_t remembered_records() const { return seen_.size(); }

 private:
  static uint64_t RouteKey(Provider provider, uint32_t id) {
    return (static_cast<uint64_t>(provider) << 32) | id;
  }
  // True if this record was seen within the window; remembers it otherwise.
  bool IsRepeat(const Event& event);
  // The newest event time of the event's partition (files: one pseudo-partition).
  absl::Time& PartitionTime(int32_t partition);

  std::vector<std::unique_ptr<Detector>> detectors_;
  absl::flat_hash_map<uint64_t, std::vector<Detector*>> routes_;
  EngineOptions options_;
  std::vector<absl::Time> partition_time_;  // index partition + 1
  absl::Time newest_ = absl::InfinitePast();
  absl::Time delivered_watermark_ = absl::InfinitePast();  // the last one detectors saw
  absl::Time next_tick_ = absl::InfinitePast();
  // Record identity hash -> event time; expired in event time through the queue.
  absl::flat_hash_map<uint64_t, absl::Time> seen_;
  std::deque<std::pair<absl::Time, uint64_t>> seen_order_;
  uint64_t duplicates_ = 0;
  uint64_t too_late_ = 0;
};

}  // namespace faultline

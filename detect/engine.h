// Routes each normalized event to the detectors that subscribed to its (provider, event id),
// after dropping repeats: the same (host, channel, record id) seen again within the dedupe window
// is a redelivery by an at-least-once forwarder and must not count twice. Only routed events are
// remembered, so the bulk of traffic that no detector wants costs one hash lookup. Owns the
// detectors. Single-threaded: one Engine per detect thread (partition group).
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "detect/detector.h"

namespace faultline {

class Engine {
 public:
  explicit Engine(std::vector<std::unique_ptr<Detector>> detectors,
                  absl::Duration dedupe_window = absl::Minutes(10));

  // Hands `event` to its subscribers. Most events subscribe nowhere and cost one hash lookup.
  void Process(const Event& event, AlertOutput& out);

  const std::vector<std::unique_ptr<Detector>>& detectors() const { return detectors_; }
  uint64_t duplicates() const { return duplicates_; }
  size_t remembered_records() const { return seen_.size(); }

 private:
  static uint64_t RouteKey(Provider provider, uint32_t id) {
    return (static_cast<uint64_t>(provider) << 32) | id;
  }

  // True if this record was seen within the window; remembers it otherwise.
  bool IsRepeat(const Event& event);

  std::vector<std::unique_ptr<Detector>> detectors_;
  absl::flat_hash_map<uint64_t, std::vector<Detector*>> routes_;
  absl::Duration dedupe_window_;
  // Record identity hash -> event time; expired in event time through the queue.
  absl::flat_hash_map<uint64_t, absl::Time> seen_;
  std::deque<std::pair<absl::Time, uint64_t>> seen_order_;
  absl::Time newest_ = absl::InfinitePast();
  uint64_t duplicates_ = 0;
};

}  // namespace faultline

// Runs the detectors in event time, per source host. For each normalized event it
//   1. stamps its arrival (detect/time/event_clocks.h: the partition's broker time, or the stream
//      clock of a file) and skips it as too_old when it was logged more than max_event_age
//      before a known broker time;
//   2. routes it to the detectors that subscribed to its (provider, event id) (one hash lookup;
//      most events have none), dropping repeats first: the same (host, channel, record id)
//      within the dedupe window is a forwarder redelivery, whatever its lateness;
//   3. judges it against its own host's clock, never another host's: the host's clock offset
//      is taken off its time (a host whose clock runs ahead), and an event older than its host
//      and channel's newest by more than the allowed lateness is late: detectors get it through
//      OnLateEvent, which uses what can still be used (a pool-disabled event) and leaves the rest
//      to be counted as too_late, so a late event never reopens a closed incident;
//   4. every `tick` of arrival time, calls OnWatermark on every detector with the per-host
//      watermarks, so incidents resolve as each host's own time passes their window, and those of
//      a host gone silent resolve as the arrival clock moves on;
//   5. stamps every alert with how long after its last event it was raised
//      (detection_delay_seconds, and a sentence in the summary when that is more than a few
//      minutes) and with the clock offset taken off its host's times.
// Owns the detectors. Single-threaded: one Engine per detect thread; stats() from any thread.
#pragma once

#include <atomic>
#include <bitset>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/histogram.h"
#include "detect/detector.h"
#include "detect/time/event_clocks.h"

namespace faultline {

struct EngineOptions {
  absl::Duration dedupe_window = absl::Minutes(10);
  absl::Duration allowed_lateness = absl::Minutes(2);
  absl::Duration max_clock_skew = absl::Minutes(10);
  absl::Duration max_event_age = absl::Hours(24 * 7);  // zero: no event is too old
  size_t max_hosts = 100'000;
  absl::Duration tick = absl::Seconds(30);
  // False for an engine whose events another engine judged already (the pool topic's, whose
  // records are on time, their times corrected, but a host's records no longer in their order):
  // it keeps the arrival clock, drops repeats and routes, and takes event times as they are.
  bool judge_hosts = true;
};

// What the engine counted. Single writer (the detect thread), readable from any thread.
struct EngineStats {
  std::atomic<uint64_t> duplicates{0};  // routed, but a redelivery of a record already seen
  // Routed, late beyond the allowance, used by no detector (with a detector on every event,
  // as the sigma detector is when a rule names no id, any late event no rule matched).
  std::atomic<uint64_t> too_late{0};
  std::atomic<uint64_t> too_old{0};      // logged more than max_event_age before its broker time
  std::atomic<uint64_t> clock_ahead{0};  // logged more than max_clock_skew ahead of its arrival
  SkewHistogram skew;                    // event time minus arrival, every event
};

class Engine {
 public:
  explicit Engine(std::vector<std::unique_ptr<Detector>> detectors, EngineOptions options = {});

  // Takes one parsed event. Writes its arrival and its corrected time into `event` (detectors
  // and the caller see the same), then routes it and moves time on.
  void Process(Event& event, AlertOutput& out);

  // The source's partitions (see EventClocks::Assign): assigned, revoked, read to their end.
  void PartitionsAssigned(const std::vector<int32_t>& partitions);
  void PartitionsRevoked(const std::vector<int32_t>& partitions);
  void PartitionEnd(int32_t partition) { clocks_.AtEnd(partition); }
  // Drops the state of `keys` (of `kind`) from the detectors keyed by them (Detector::Forget):
  // PartitionsRevoked does it for the hosts of the partitions; the pool engine's caller for the
  // pools of a pool topic partition.
  void Forget(StateKey kind, const absl::flat_hash_set<std::string>& keys);
  // Runs the periodic sweep if the arrival clock has moved a tick on since the last one (a
  // partition that reached its end may have moved it: it no longer holds it back).
  void Sweep(AlertOutput& out) { Tick(out); }

  const std::vector<std::unique_ptr<Detector>>& detectors() const { return detectors_; }
  const EngineStats& stats() const { return stats_; }
  // True while Process runs the periodic sweep (every detector's OnWatermark, over all hosts),
  // false while the event's own detectors run: an AlertOutput can tell what the event raised
  // from what time did.
  bool sweeping() const { return sweeping_; }
  const EventClocks& clocks() const { return clocks_; }
  const EngineOptions& options() const { return options_; }
  size_t remembered_records() const { return seen_.size(); }

 private:
  class StampedOutput;

  static uint64_t RouteKey(Provider provider, uint32_t id) {
    return (static_cast<uint64_t>(provider) << 32) | id;
  }
  // Bump for the event being processed, unless it is replayed (counted when first read).
  void Count(std::atomic<uint64_t>& counter) const {
    if (counting_) Bump(counter);
  }
  static void Bump(std::atomic<uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // True if this record (logged at `logged`, the host's own time) was seen within the window;
  // remembers it otherwise.
  bool IsRepeat(const Event& event, absl::Time logged);
  // Calls OnWatermark when the arrival clock has moved a tick on.
  void MaybeTick(AlertOutput& out) {
    // Most messages: no tick due, and not the 1024th (see Tick).
    if (clocks_.stream_now() < next_tick_ && (++messages_ & 1023) != 0) return;
    Tick(out);
  }
  void Tick(AlertOutput& out);

  std::vector<std::unique_ptr<Detector>> detectors_;
  absl::flat_hash_map<uint64_t, std::vector<Detector*>> routes_;
  std::vector<Detector*> every_;    // subscribed to every event (EventKey::Every)
  std::vector<Detector*> wanting_;  // those of every_ that want the event in hand (Wants)
  std::bitset<65536> routed_ids_;   // event ids (all 16-bit on Windows) with a route
  bool sweeping_ = false;
  bool counting_ = true;  // the event being processed is counted (not replayed)
  EngineOptions options_;
  EventClocks clocks_;
  const int64_t max_clock_skew_ns_, max_event_age_ns_;
  absl::Time next_tick_ = absl::InfinitePast();       // on the newest partition's clock
  absl::Time next_slow_tick_ = absl::InfinitePast();  // on the slowest's (Arrival)
  uint64_t messages_ = 0;
  // Record identity hash -> when it was logged and arrived; forgotten in arrival time through
  // the queue.
  struct SeenRecord {
    absl::Time logged;
    absl::Time arrival;
  };
  absl::flat_hash_map<uint64_t, SeenRecord> seen_;
  // Per partition (index partition + 1), oldest first: (arrival, record).
  // A queue per partition as a vector and a head: it grows to the window's peak once and is
  // then reused, where a deque allocated a block every few dozen records.
  struct ArrivalOrder {
    std::vector<std::pair<absl::Time, uint64_t>> items;
    size_t head = 0;
  };
  std::vector<ArrivalOrder> seen_order_;
  EngineStats stats_;
};

}  // namespace faultline

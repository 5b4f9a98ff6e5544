// A latency histogram with fixed bucket bounds in seconds: Observe() from any thread (relaxed
// atomic adds, no lock), read by the metrics endpoint at scrape time. Used where a duration is
// measured per alert or per delivery, never per event.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace faultline {

class LatencyHistogram {
 public:
  // Upper bounds in seconds (Prometheus `le`), from 1 ms to a day: alert latency spans a
  // sub-second live pipeline and a replay of last week. Every 50 ms from 50 to 300 ms, where a
  // live pipeline's p50 and the 250 ms goal lie, coarser up to 1 s.
  static constexpr std::array<double, 23> kBounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3,  0.4,
      0.5,   0.75,   1,     2.5,  5,     10,   30,  60,   300, 3600, 86400};

  void Observe(absl::Duration d);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf last
    double sum_seconds = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<int64_t> sum_nanos_{0};
};

// How far event times stand from their arrival (event time minus arrival: negative when an event
// arrived late, positive when it was stamped ahead), observed once per event by the one detect
// thread: single writer, so the buckets take a plain load and store, no locked instruction. Read
// by the metrics endpoint; no per-host labels (a fleet has too many hosts for a label).
class SkewHistogram {
 public:
  // Upper bounds in seconds: a day late ... a day ahead.
  static constexpr std::array<double, 13> kBounds = {-86400, -3600, -600, -60, -10,  -1,   0,
                                                     1,      10,    60,   600, 3600, 86400};

  // Inline and branch-free: it runs for every message.
  void Observe(int64_t skew_nanos) {
    size_t bucket = 0;
    for (int64_t bound : kBoundsNanos) bucket += skew_nanos > bound;
    buckets_[bucket].store(buckets_[bucket].load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
    // In double seconds: a host stamped 2099 adds 2.3e9 per event, and a chatty one would take
    // an integer sum past its limit within days.
    sum_seconds_.store(
        sum_seconds_.load(std::memory_order_relaxed) + static_cast<double>(skew_nanos) * 1e-9,
        std::memory_order_relaxed);
  }
  LatencyHistogram::Snapshot Read() const;

 private:
  static constexpr std::array<int64_t, kBounds.size()> kBoundsNanos = [] {
    std::array<int64_t, kBounds.size()> out{};
    for (size_t i = 0; i < kBounds.size(); ++i) {
      out[i] = static_cast<int64_t>(kBounds[i]) * 1'000'000'000;
    }
    return out;
  }();
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<double> sum_seconds_{0};
};

}  // namespace faultline

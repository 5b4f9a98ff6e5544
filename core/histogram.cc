#include "core/histogram.h"

#include <algorithm>

namespace faultline {

void LatencyHistogram::Observe(absl::Duration d) {
  const double seconds = absl::ToDoubleSeconds(d);
  const size_t i = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_relaxed);
}

namespace {

// Cumulative counts, as Prometheus wants them, from one histogram's buckets.
template <size_t N>
LatencyHistogram::Snapshot Cumulative(const std::array<std::atomic<uint64_t>, N>& buckets,
                                      double sum_seconds) {
  LatencyHistogram::Snapshot s;
  uint64_t running = 0;
  for (const auto& b : buckets) {
    running += b.load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum_seconds = sum_seconds;
  return s;
}

}  // namespace

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  return Cumulative(buckets_,
                    static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9);
}

LatencyHistogram::Snapshot SkewHistogram::Read() const {
  return Cumulative(buckets_, sum_seconds_.load(std::memory_order_relaxed));
}

}  // namespace faultline

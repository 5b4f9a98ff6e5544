// The windows of a Sigma correlation (rules.h Correlation), per host and group, in event time.
// Entries are kept sorted by event time (detect/window/event_time_window.h), so an event that
// arrives out of order is placed where it belongs: whether a window of `timespan` satisfies
// the condition does not depend on the order events arrived in (the known failure of engines
// that count in arrival order). After each entry, every window of `timespan` that contains it
// (one starting at each entry up to `timespan` before it) is measured.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "detect/sigma/rules.h"
#include "detect/window/event_time_window.h"

namespace faultline::sigma {

struct CorrelationEntry {
  uint32_t which = 0;  // the reference (Correlation::refs) the event matched
  uint64_t value = 0;  // value_count: a hash of the field's value
  double number = 0;   // value_sum, value_avg, value_percentile: the field as a number
};

using CorrelationWindow = EventTimeWindow<CorrelationEntry>;

// Reused between measurements: no allocation once grown.
struct CorrelationScratch {
  std::vector<double> numbers;                           // value_percentile: one window's values
  absl::flat_hash_map<uint64_t, uint32_t> value_counts;  // value_count: entries per value
  std::vector<uint32_t> ref_counts;                      // temporal: entries per reference
};

// Whether a window of c.timespan ending at an entry and containing time `t` satisfies the
// correlation; `metric` gets the largest measure among the windows that do (event count,
// distinct values, distinct rules, sum, average or percentile).
bool WindowHolds(const Correlation& c, const CorrelationWindow& window, absl::Time t,
                 double* metric, CorrelationScratch* scratch);

}  // namespace faultline::sigma

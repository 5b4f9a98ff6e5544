#include "detect/sigma/correlation.h"

#include <algorithm>
#include <cmath>

namespace faultline::sigma {

namespace {

// The measure of entries [begin, end) for the correlation.
double Measure(const Correlation& c, const std::vector<CorrelationWindow::Entry>& e, size_t begin,
               size_t end, CorrelationScratch* scratch) {
  const size_t n = end - begin;
  switch (c.type) {
    case CorrelationType::kEventCount:
      return static_cast<double>(n);
    case CorrelationType::kValueCount: {
      std::vector<uint64_t>& h = scratch->hashes;
      h.clear();
      for (size_t i = begin; i < end; ++i) h.push_back(e[i].value.value);
      std::sort(h.begin(), h.end());
      return static_cast<double>(std::unique(h.begin(), h.end()) - h.begin());
    }
    case CorrelationType::kTemporal: {
      uint64_t seen = 0;
      for (size_t i = begin; i < end; ++i) seen |= uint64_t{1} << (e[i].value.which % 64);
      return static_cast<double>(__builtin_popcountll(seen));
    }
    case CorrelationType::kTemporalOrdered: {
      // The longest prefix of the references seen in order (greedy from the window's start).
      uint32_t next = 0;
      for (size_t i = begin; i < end && next < c.refs.size(); ++i) {
        if (e[i].value.which == next) ++next;
      }
      return next;
    }
    case CorrelationType::kValueSum:
    case CorrelationType::kValueAvg: {
      double sum = 0;
      for (size_t i = begin; i < end; ++i) sum += e[i].value.number;
      return c.type == CorrelationType::kValueSum ? sum : sum / static_cast<double>(n);
    }
    case CorrelationType::kValuePercentile: {
      std::vector<double>& v = scratch->numbers;
      v.clear();
      for (size_t i = begin; i < end; ++i) v.push_back(e[i].value.number);
      // Nearest rank.
      const auto rank = static_cast<size_t>(
          std::max(1.0, std::ceil(c.percentile * static_cast<double>(n) / 100.0)));
      std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(rank - 1), v.end());
      return v[rank - 1];
    }
  }
  return 0;
}

bool Satisfied(const Correlation& c, double measure) {
  switch (c.type) {
    case CorrelationType::kTemporalOrdered:
      return measure >= static_cast<double>(c.refs.size());
    case CorrelationType::kTemporal:
      return c.has_condition ? c.condition.Holds(measure)
                             : measure >= static_cast<double>(c.refs.size());
    default:
      return c.condition.Holds(measure);
  }
}

}  // namespace

bool WindowHolds(const Correlation& c, const CorrelationWindow& window, absl::Time t,
                 double* metric, CorrelationScratch* scratch) {
  const auto& e = window.entries();
  bool holds = false;
  // Every window [start, start + timespan] with start an entry's time in [t - timespan, t].
  auto first =
      std::lower_bound(e.begin(), e.end(), t - c.timespan,
                       [](const CorrelationWindow::Entry& x, absl::Time v) { return x.time < v; });
  for (auto s = first; s != e.end() && s->time <= t; ++s) {
    const auto end = std::upper_bound(
        s, e.end(), s->time + c.timespan,
        [](absl::Time v, const CorrelationWindow::Entry& x) { return v < x.time; });
    const double m = Measure(c, e, static_cast<size_t>(s - e.begin()),
                             static_cast<size_t>(end - e.begin()), scratch);
    if (Satisfied(c, m)) {
      *metric = holds ? std::max(*metric, m) : m;
      holds = true;
    }
  }
  return holds;
}

}  // namespace faultline::sigma

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
  auto first_at_or_after = [&](absl::Time x) {
    return static_cast<size_t>(std::lower_bound(e.begin(), e.end(), x,
                                                [](const CorrelationWindow::Entry& y,
                                                   absl::Time v) { return y.time < v; }) -
                               e.begin());
  };
  auto first_after = [&](absl::Time x) {
    return static_cast<size_t>(
        std::upper_bound(
            e.begin(), e.end(), x,
            [](absl::Time v, const CorrelationWindow::Entry& y) { return v < y.time; }) -
        e.begin());
  };
  // The windows an in-order stream would have measured on each arrival: [x - timespan, x] for
  // every entry x from `t` to `t + timespan` (the ones that contain t). Their starts only move
  // on as their ends do, so the measures that add up are kept running: O(entries) per call.
  size_t end = first_at_or_after(t);
  const size_t last = first_after(t + c.timespan);
  if (end >= last) return false;
  size_t start = first_at_or_after(e[end].time - c.timespan);
  const size_t refs = c.refs.size();
  auto& values = scratch->value_counts;
  auto& per_ref = scratch->ref_counts;
  values.clear();
  per_ref.assign(refs, 0);
  size_t distinct = 0;
  double sum = 0;
  auto add = [&](size_t i) {
    const CorrelationEntry& v = e[i].value;
    sum += v.number;
    if (c.type == CorrelationType::kValueCount && values[v.value]++ == 0) ++distinct;
    if (c.type == CorrelationType::kTemporal && v.which < refs && per_ref[v.which]++ == 0) {
      ++distinct;
    }
  };
  auto remove = [&](size_t i) {
    const CorrelationEntry& v = e[i].value;
    sum -= v.number;
    if (c.type == CorrelationType::kValueCount && --values[v.value] == 0) --distinct;
    if (c.type == CorrelationType::kTemporal && v.which < refs && --per_ref[v.which] == 0) {
      --distinct;
    }
  };
  for (size_t i = start; i <= end; ++i) add(i);
  bool holds = false;
  while (true) {
    const size_t n = end + 1 - start;
    double m = 0;
    bool measured = true;
    switch (c.type) {
      case CorrelationType::kEventCount:
        m = static_cast<double>(n);
        break;
      case CorrelationType::kValueCount:
      case CorrelationType::kTemporal:
        m = static_cast<double>(distinct);
        break;
      case CorrelationType::kValueSum:
        m = sum;
        break;
      case CorrelationType::kValueAvg:
        m = sum / static_cast<double>(n);
        break;
      case CorrelationType::kTemporalOrdered:
        // A window holding the sequence holds it ending at its last rule's entry: only those
        // windows are measured.
        measured = e[end].value.which + 1 == refs;
        if (measured) m = Measure(c, e, start, end + 1, scratch);
        break;
      case CorrelationType::kValuePercentile:
        m = Measure(c, e, start, end + 1, scratch);
        break;
    }
    if (measured && Satisfied(c, m)) {
      *metric = holds ? std::max(*metric, m) : m;
      holds = true;
    }
    if (++end >= last) break;
    add(end);
    const size_t new_start = first_at_or_after(e[end].time - c.timespan);
    while (start < new_start) remove(start++);
  }
  return holds;
}

}  // namespace faultline::sigma

#include "detect/sigma/correlation.h"

#include <algorithm>
#include <cmath>

namespace faultline::sigma {

namespace {

// How many of the references appear in order in entries [begin, end) (greedy from the start).
double OrderedPrefix(const Correlation& c, const std::vector<CorrelationWindow::Entry>& e,
                     size_t begin, size_t end) {
  uint32_t next = 0;
  for (size_t i = begin; i < end && next < c.refs.size(); ++i) {
    if (e[i].value.which == next) ++next;
  }
  return next;
}

// The nearest-rank percentile of the values of entries [begin, end).
double Percentile(const Correlation& c, const std::vector<CorrelationWindow::Entry>& e,
                  size_t begin, size_t end, std::vector<double>* v) {
  v->clear();
  for (size_t i = begin; i < end; ++i) v->push_back(e[i].value.number);
  const auto rank = static_cast<size_t>(
      std::max(1.0, std::ceil(c.percentile * static_cast<double>(end - begin) / 100.0)));
  std::nth_element(v->begin(), v->begin() + static_cast<ptrdiff_t>(rank - 1), v->end());
  return (*v)[rank - 1];
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
        if (measured) m = OrderedPrefix(c, e, start, end + 1);
        break;
      case CorrelationType::kValuePercentile:
        m = Percentile(c, e, start, end + 1, &scratch->numbers);
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

// Settings per name pattern, shared by the detectors: overrides are tried in order and the first
// whose `*`/`?` globs all match the names wins; the section's own values come last. Values are
// resolved once at construction (an override's unset fields take the section's), so a lookup is
// a few glob matches and returns a pointer that stays valid for the detector's life.
//
// A detector declares its overridable settings once, as a struct V with its schema, writes V in
// its section (Schema::Inline) and lists `overrides` of it (Schema::Overrides): the reference,
// the reader and this resolution all follow from that one declaration.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/settings.h"
#include "core/strings.h"

namespace faultline {

template <typename V, size_t N>
class PatternOverrides {
 public:
  using Patterns = std::array<std::string, N>;

  // The section's `values`, and each override's settings on top of them, in the order written.
  PatternOverrides(const V& values, const std::vector<settings::Override<V, N>>& overrides,
                   const settings::Schema<V>& schema)
      : fallback_(values) {
    for (const settings::Override<V, N>& o : overrides) {
      V resolved = values;
      schema.CopyKeys(o.values, resolved, o.keys);
      rules_.emplace_back(o.patterns, std::move(resolved));
    }
  }

  // The largest `field` of the section and every override (how far back a detector's windows
  // reach, for a restore).
  template <typename T>
  T Max(T V::*field) const {
    T out = fallback_.*field;
    for (const auto& [patterns, value] : rules_) out = std::max(out, value.*field);
    return out;
  }

  const V& For(const std::array<std::string_view, N>& names) const {
    for (const auto& [patterns, value] : rules_) {
      bool all = true;
      for (size_t i = 0; i < N && all; ++i) all = GlobMatch(patterns[i], names[i]);
      if (all) return value;
    }
    return fallback_;
  }

 private:
  std::vector<std::pair<Patterns, V>> rules_;
  V fallback_;
};

}  // namespace faultline

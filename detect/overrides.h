// Settings per name pattern, shared by the detectors: overrides are tried in order and the first
// whose `*`/`?` globs all match the names wins; the section's own values come last. Values are
// resolved once at construction (an override's unset fields take the section's), so a lookup is
// a few glob matches and returns a pointer that stays valid for the detector's life.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.h"

namespace faultline {

template <typename V, size_t N>
class PatternOverrides {
 public:
  using Patterns = std::array<std::string, N>;

  // `rules` in the order written, then the value when none matches.
  PatternOverrides(std::vector<std::pair<Patterns, V>> rules, V fallback)
      : rules_(std::move(rules)), fallback_(std::move(fallback)) {}

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

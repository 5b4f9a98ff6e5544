// Bridges between std::string_view (what simdjson, librdkafka wrappers and this project use) and
// absl::string_view. Debian 12's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so the
// two are distinct types there and std::string_view does not convert into absl::StrCat & co.
// On an Abseil that aliases them (Debian 13), these are identity functions.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace faultline {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// ASCII case-insensitive equality (provider names, pool names, forwarder field names).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Removes ASCII whitespace at both ends.
inline std::string_view StripWhitespace(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The glob matcher every glob shares: a pattern of `n` positions, `star(p)` and `any(p)` saying
// whether position p is a `*` (any run) or a `?` (any one byte), `same(p, t)` whether it
// matches byte t of `text` literally. Iterative, with one backtrack point (the last star).
template <typename Star, typename Any, typename Same>
bool GlobMatchWith(size_t n, std::string_view text, Star star, Any any, Same same) {
  size_t p = 0, t = 0, back = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < n && star(p)) {
      back = p++;
      mark = t;
    } else if (p < n && (any(p) || same(p, t))) {
      ++p;
      ++t;
    } else if (back != std::string_view::npos) {
      p = back + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < n && star(p)) ++p;
  return p == n;
}

// Glob match with `*` and `?`, ASCII case-insensitive: the host and pool patterns of
// configuration overrides.
inline bool GlobMatch(std::string_view pattern, std::string_view text) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return GlobMatchWith(
      pattern.size(), text, [pattern](size_t p) { return pattern[p] == '*'; },
      [pattern](size_t p) { return pattern[p] == '?'; },
      [pattern, text, lower](size_t p, size_t t) { return lower(pattern[p]) == lower(text[t]); });
}

}  // namespace faultline

#include "core/printable.h"

#include <cstdint>
#include <cstdio>

namespace faultline {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` (0: not one), and its code point.
size_t DecodeUtf8(std::string_view s, uint32_t* cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  size_t n;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80, *cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800, *cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000, *cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b(i) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return n;
}

bool Hidden(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) ||
         cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         (cp >= 0xE0000 && cp <= 0xE007F);
}

}  // namespace

void AppendPrintable(std::string* out, std::string_view text) {
  char escape[16];
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = c < 0x80 ? 0 : DecodeUtf8(text.substr(i), &cp);
    if (n == 0) {  // a control character, DEL, or a byte of no valid character
      std::snprintf(escape, sizeof(escape), "\\x%02X", c);
      out->append(escape);
      ++i;
    } else if (Hidden(cp)) {
      std::snprintf(escape, sizeof(escape), "\\u{%04X}", cp);
      out->append(escape);
      i += n;
    } else {
      out->append(text.substr(i, n));
      i += n;
    }
  }
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendPrintable(&out, text);
  return out;
}

}  // namespace faultline

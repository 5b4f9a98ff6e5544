#include "ingest/parse/time_parse.h"

#include <cstdint>

namespace faultline {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

bool ParseIso8601(std::string_view s, absl::Time* out, const absl::TimeZone* zoneless) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  size_t pos = 0;
  // The canonical fixed-width form first (what forwarders write); fields after the year may also
  // have one digit: Microsoft's documentation renders SystemTime="2011-1-1T1:11:11.000000000Z",
  // and such copies reach pipelines too.
  if (s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') &&
      s[13] == ':' && s[16] == ':' && Digits(s, 0, 4, &year) && Digits(s, 5, 2, &month) &&
      Digits(s, 8, 2, &day) && Digits(s, 11, 2, &hour) && Digits(s, 14, 2, &minute) &&
      Digits(s, 17, 2, &second)) {
    pos = 19;
  } else {
    auto field = [&](size_t min_digits, size_t max_digits, int* v) {
      size_t n = 0;
      while (n < max_digits && pos + n < s.size() && s[pos + n] >= '0' && s[pos + n] <= '9') ++n;
      if (n < min_digits) return false;
      Digits(s, pos, n, v);
      pos += n;
      return true;
    };
    auto expect = [&](char c) {
      if (pos >= s.size() || s[pos] != c) return false;
      ++pos;
      return true;
    };
    if (!field(4, 4, &year) || !expect('-') || !field(1, 2, &month) || !expect('-') ||
        !field(1, 2, &day) || pos >= s.size() || (s[pos] != 'T' && s[pos] != ' ')) {
      return false;
    }
    ++pos;
    if (!field(1, 2, &hour) || !expect(':') || !field(1, 2, &minute) || !expect(':') ||
        !field(1, 2, &second)) {
      return false;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  int64_t nanos = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (pos < s.size() && s[pos] == ' ') ++pos;  // "2025-12-18 18:12:13 -0500"
  int offset_seconds = 0;
  if (pos == s.size() && zoneless != nullptr) {
    *out = absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second), *zoneless) +
           absl::Nanoseconds(nanos);
    return true;
  }
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      int oh, om;
      if (!Digits(s, pos + 1, 2, &oh)) return false;
      size_t mpos = pos + 3;
      if (mpos < s.size() && s[mpos] == ':') ++mpos;
      if (!Digits(s, mpos, 2, &om) || oh > 23 || om > 59) return false;
      pos = mpos + 2;
      offset_seconds = sign * (oh * 3600 + om * 60);
    } else {
      return false;
    }
  }
  if (pos != s.size()) return false;
  const int64_t secs = DaysFromCivil(year, month, day) * 86400 + int64_t{hour} * 3600 +
                       int64_t{minute} * 60 + second - offset_seconds;
  *out = absl::FromUnixSeconds(secs) + absl::Nanoseconds(nanos);
  return true;
}

bool HasZone(std::string_view s) {
  if (s.empty()) return false;
  if (s.back() == 'Z' || s.back() == 'z') return true;
  // An offset "+01:00", "-0500" after the seconds: a sign past the date's own dashes.
  const size_t sign = s.find_last_of("+-");
  return sign != std::string_view::npos && sign > 10;
}

bool IsPlausibleEventTime(absl::Time t) {
  static const absl::Time kEarliest = absl::UnixEpoch();
  static const absl::Time kEnd = absl::FromUnixSeconds(4'102'444'800);  // 2100-01-01T00:00:00Z
  return t >= kEarliest && t < kEnd;
}

}  // namespace faultline

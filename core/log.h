// Minimal leveled logging to stderr (Debian 12's Abseil predates absl/log). Per-event problems
// are counted, never logged one by one; these calls are for lifecycle and rare conditions.
#pragma once

#include <string_view>
#include <utility>

namespace faultline {

// Any string-like text: const char*, std::string, std::string_view, absl::string_view (a
// distinct type on Debian 12's Abseil), so callers can log a Status message as it is.
struct LogText {
  LogText(const char* s) : text(s) {}  // NOLINT(google-explicit-constructor)
  template <typename S, typename = decltype(std::declval<const S&>().data()),
            typename = decltype(std::declval<const S&>().size())>
  LogText(const S& s) : text(s.data(), s.size()) {}  // NOLINT(google-explicit-constructor)
  std::string_view text;
};

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
void Log(LogLevel level, LogText message);
inline void LogInfo(LogText m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(LogText m) { Log(LogLevel::kWarning, m); }
inline void LogError(LogText m) { Log(LogLevel::kError, m); }

}  // namespace faultline

#include "core/log.h"

#include <atomic>
#include <cstdio>

namespace faultline {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

constexpr const char* kLevelNames[] = {"debug", "info", "warning", "error"};

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }

void Log(LogLevel level, LogText message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::fprintf(stderr, "faultline %s: %.*s\n", kLevelNames[static_cast<int>(level)],
               static_cast<int>(message.text.size()), message.text.data());
}

}  // namespace faultline

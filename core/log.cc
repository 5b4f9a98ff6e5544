#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "core/printable.h"

namespace faultline {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

constexpr const char* kLevelNames[] = {"debug", "info", "warning", "error"};

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }

void Log(LogLevel level, LogText message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  // One line each, whatever the message quotes (a topic, a host, a broker's error text): what
  // comes from outside cannot forge a line of its own or drive the terminal.
  const std::string line = Printable(message.text);
  std::fprintf(stderr, "faultline %s: %.*s\n", kLevelNames[static_cast<int>(level)],
               static_cast<int>(line.size()), line.data());
}

}  // namespace faultline

#include "app/progress.h"

#include "absl/strings/str_format.h"
#include "core/log.h"

namespace faultline {

ProgressReporter::ProgressReporter(const Pipeline& pipeline, absl::Duration every, Clock& clock)
    : pipeline_(pipeline), every_(every), clock_(clock) {
  if (every_ > absl::ZeroDuration()) thread_ = std::thread([this] { Loop(); });
}

ProgressReporter::~ProgressReporter() {
  done_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ProgressReporter::Loop() {
  const RunStats& stats = pipeline_.stats();
  absl::Time last = clock_.TimeNow();
  uint64_t last_messages = 0;
  while (!done_.load()) {
    // Short steps, so that a stop is not held up by the period.
    clock_.SleepFor(absl::Milliseconds(200));
    const absl::Time now = clock_.TimeNow();
    if (now - last < every_) continue;
    const uint64_t messages = stats.messages.load(std::memory_order_relaxed);
    uint64_t delivered = 0, queued = 0;
    for (const Dispatcher::SinkInfo& sink : pipeline_.dispatcher().sinks()) {
      delivered += sink.stats.delivered.load();
      queued += sink.stats.queued.load();
    }
    LogInfo(absl::StrFormat(
        "progress: %d events (%.0f/s), %d parsed, %d rejected, %d alerts; sinks: %d delivered, "
        "%d queued, %d failed",
        messages, static_cast<double>(messages - last_messages) / absl::ToDoubleSeconds(now - last),
        stats.parsed.load(), stats.rejected(), stats.alerts.load(), delivered, queued,
        pipeline_.sink_failures()));
    last = now;
    last_messages = messages;
  }
}

}  // namespace faultline

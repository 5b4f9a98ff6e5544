#include "app/progress.h"

#include "absl/strings/str_format.h"
#include "core/log.h"

namespace faultline {

ProgressReporter::ProgressReporter(std::vector<const Pipeline*> pipelines, absl::Duration every,
                                   Clock& clock)
    : pipelines_(std::move(pipelines)), every_(every), clock_(clock) {
  if (every_ > absl::ZeroDuration()) thread_ = std::thread([this] { Loop(); });
}

ProgressReporter::~ProgressReporter() {
  done_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ProgressReporter::Loop() {
  auto sum = [this](auto&& value) {
    uint64_t n = 0;
    for (const Pipeline* p : pipelines_) n += value(p->stats());
    return n;
  };
  const Pipeline& any = *pipelines_.front();
  absl::Time last = clock_.TimeNow();
  uint64_t last_messages = 0;
  while (!done_.load()) {
    // Short steps, so that a stop is not held up by the period.
    clock_.SleepFor(absl::Milliseconds(200));
    const absl::Time now = clock_.TimeNow();
    if (now - last < every_) continue;
    const uint64_t messages = sum([](const RunStats& s) { return s.messages.load(); });
    uint64_t delivered = 0, queued = 0;
    for (const Dispatcher::SinkInfo& sink : any.dispatcher().sinks()) {
      delivered += sink.stats.delivered.load();
      queued += sink.stats.queued.load();
    }
    LogInfo(absl::StrFormat(
        "progress: %d events (%.0f/s), %d parsed, %d rejected, %d alerts; sinks: %d delivered, "
        "%d queued, %d failed",
        messages, static_cast<double>(messages - last_messages) / absl::ToDoubleSeconds(now - last),
        sum([](const RunStats& s) { return s.parsed.load(); }),
        sum([](const RunStats& s) { return s.rejected(); }),
        sum([](const RunStats& s) { return s.alerts.load(); }), delivered, queued,
        any.sink_failures()));
    last = now;
    last_messages = messages;
  }
}

}  // namespace faultline

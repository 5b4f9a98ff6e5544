// A progress line on stderr every `every` while a long run goes on (`run`: 30 s; `replay` on a
// terminal: 5 s): events and their rate, parsed, rejected, alerts, and the sinks' delivered,
// queued and failed, summed over the workers' pipelines. Reads their atomics from its own thread;
// stops when destroyed.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "app/pipeline.h"
#include "core/clock.h"

namespace faultline {

class ProgressReporter {
 public:
  // Reports nothing when `every` is zero.
  ProgressReporter(std::vector<const Pipeline*> pipelines, absl::Duration every, Clock& clock);
  ~ProgressReporter();

 private:
  void Loop();

  const std::vector<const Pipeline*> pipelines_;  // they share one dispatcher
  const absl::Duration every_;
  Clock& clock_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace faultline

// Reads JSON lines (one forwarder message per line) from files or stdin ("-"), for replay,
// backtests and the demo. Origin.offset is the 1-based line number within its file. While the
// handler is saturated it waits (on the clock) instead of reading on: a file can wait.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/source.h"

namespace faultline {

class FileSource final : public Source {
 public:
  // Fails with kNotFound naming the first path that cannot be opened; opens nothing else.
  static absl::StatusOr<std::unique_ptr<FileSource>> Create(std::vector<std::string> paths,
                                                            Clock& clock = RealClock::Get());

  absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) override;

 private:
  FileSource(std::vector<std::string> paths, Clock& clock)
      : paths_(std::move(paths)), clock_(clock) {}
  // Waits while the handler is saturated; ticks it about once a second meanwhile.
  void WaitWhileSaturated(MessageHandler& handler, const std::atomic<bool>& stop);

  std::vector<std::string> paths_;
  Clock& clock_;
  absl::Time next_tick_ = absl::InfinitePast();
};

}  // namespace faultline

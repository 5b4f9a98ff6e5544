// Reads JSON lines (one forwarder message per line) from files or stdin ("-"), for replay,
// backtests and the demo. Origin.offset is the 1-based line number within its file.
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
  static absl::StatusOr<std::unique_ptr<FileSource>> Create(std::vector<std::string> paths);

  absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) override;

 private:
  explicit FileSource(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  std::vector<std::string> paths_;
};

}  // namespace faultline

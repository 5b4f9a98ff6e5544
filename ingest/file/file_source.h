// Reads JSON lines (one forwarder message per line) from files or stdin ("-"), for replay,
// backtests and the demo. Origin.offset is the 1-based line number within its file. While the
// handler is saturated it waits (on the clock) instead of reading on: a file can wait.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/source.h"

namespace faultline {

// The lines of one file descriptor, each at most `max` bytes held: a longer line comes out as
// its first max + 1 bytes (its reader sees it is too large) and the rest of it is read past
// without being kept, so a 300 MB line costs no more memory than a short one.
class LineReader {
 public:
  LineReader(int fd, size_t max) : fd_(fd), max_(max), chunk_(kChunk) {}
  // The next line without its newline, valid until the next call; false at the end of the
  // input (or a read error: `error()`), or when a signal interrupted the read (`interrupted()`:
  // call again to read on, the line begun is kept).
  bool Next(std::string_view* line);
  int error() const { return error_; }
  bool interrupted() const { return interrupted_; }
  // Bytes held for lines (the read chunk and a line that spans chunks): bounded by max + 1
  // plus the chunk.
  size_t held_bytes() const { return chunk_.size() + long_.capacity(); }

 private:
  static constexpr size_t kChunk = size_t{64} << 10;
  bool Fill();

  int fd_;
  size_t max_;
  std::vector<char> chunk_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false, interrupted_ = false;
  int error_ = 0;
  // A line that spans chunks (its first max + 1 bytes), as far as it is read: whether it has
  // begun, is read past its limit, and was handed out (cleared at the next call).
  std::string long_;
  bool started_ = false, skipping_ = false, done_ = false;
};

class FileSource final : public Source {
 public:
  // Fails with kNotFound naming the first path that cannot be opened; opens nothing else. A line
  // longer than `max_line_bytes` reaches the handler as its first max_line_bytes + 1 bytes (the
  // pipeline rejects it as too_large), the rest of it skipped unread into memory.
  static absl::StatusOr<std::unique_ptr<FileSource>> Create(std::vector<std::string> paths,
                                                            Clock& clock = RealClock::Get(),
                                                            size_t max_line_bytes = 1 << 20);

  absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) override;

 private:
  FileSource(std::vector<std::string> paths, Clock& clock, size_t max_line_bytes)
      : paths_(std::move(paths)), clock_(clock), max_line_bytes_(max_line_bytes) {}
  // Waits while the handler is saturated; ticks it about once a second meanwhile.
  void WaitWhileSaturated(MessageHandler& handler, const std::atomic<bool>& stop);

  std::vector<std::string> paths_;
  Clock& clock_;
  size_t max_line_bytes_;
  absl::Time next_tick_ = absl::InfinitePast();
};

}  // namespace faultline

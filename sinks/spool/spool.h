// The dispatcher's write-ahead journal (`delivery.spool_dir`): every alert is appended and made
// durable (fdatasync) here before its source offset may be committed, and each sink's cursor
// (the last alert it delivered) is kept beside it, so alerts queued when faultline stops or
// crashes are delivered after the restart, with the same idempotency keys.
//
// Layout of the directory:
//   segment-<first seq, 20 digits>.log   records: u32 length | u32 crc32 | u64 seq | Alert bytes
//                                        (little endian; the crc covers seq and bytes)
//   cursor.<sink name>                   the seq of the last alert that sink delivered, as text
// A torn record at the end of the last segment (a crash mid-write) is cut off at open. A segment
// is deleted once every sink's cursor has passed it.
//
// Not thread-safe except Delivered(): the dispatcher's journal thread owns it; sink workers call
// Delivered().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/alert.h"

namespace faultline {

class Spool {
 public:
  struct Record {
    uint64_t seq = 0;
    std::shared_ptr<const Alert> alert;
  };
  // Written by the journal thread, read by the metrics endpoint.
  struct Stats {
    std::atomic<uint64_t> bytes{0};  // on disk, all segments
    std::atomic<uint64_t> segments{0};
    std::atomic<uint64_t> recovered{0};  // undelivered records found at open, all sinks
    std::atomic<uint64_t> corrupt{0};    // segments with a damaged or torn tail cut at open
  };

  // Opens `dir` (created if missing) for the sinks named in `sinks` (names: letters, digits,
  // '.', '_' and '-'). A sink without a cursor file starts after the newest record: it is not
  // sent alerts from before it was configured.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& dir,
                                                     const std::vector<std::string>& sinks,
                                                     uint64_t segment_bytes = 16 << 20);
  ~Spool();

  // The records sink `index` had not delivered when the spool was opened, oldest first.
  std::vector<Record> Pending(size_t index) const;

  // Numbers `records` (seq) in order, appends them and makes them durable. On an error nothing
  // of the batch counts as written: the caller retries it.
  absl::Status Append(std::vector<Record>& records);

  // Sink `index` delivered (or gave up on) everything up to `seq`. Any thread.
  void Delivered(size_t index, uint64_t seq);

  // Persists the cursors that moved and deletes the segments every sink has passed.
  absl::Status Checkpoint();

  const Stats& stats() const { return stats_; }

 private:
  struct Segment {
    std::string path;
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;  // 0: empty
    uint64_t bytes = 0;
  };
  struct Cursor {
    std::string name;
    std::atomic<uint64_t> delivered{0};
    uint64_t persisted = 0;
  };

  Spool(std::string dir, uint64_t segment_bytes)
      : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
  absl::Status Recover();
  absl::Status OpenNewSegment();
  absl::Status SyncDir();

  std::string dir_;
  uint64_t segment_bytes_;
  std::vector<Segment> segments_;  // oldest first; the last one is being written
  std::vector<std::unique_ptr<Cursor>> cursors_;
  std::vector<std::vector<Record>> pending_;  // per sink, from Recover()
  uint64_t next_seq_ = 1;
  int fd_ = -1;
  Stats stats_;
};

}  // namespace faultline

// Writes alerts as lines to stdout (`type: stdout`) or to a file (`type: file`): one JSON object
// per line (`format: json`, the default: the stable alert shape, i.e. JSON lines) or a few
// readable lines per alert (`format: text`). A file is rotated by size: faultline.jsonl ->
// faultline.jsonl.1 -> ... -> .N, the oldest deleted.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sinks/registry.h"

namespace faultline {

class FileSink final : public Sink {
 public:
  enum class Format { kJson, kText };
  struct Rotation {
    uint64_t max_bytes = 100 << 20;  // 0: never rotate
    int max_files = 5;               // rotated files kept beside the current one
  };

  // `type: stdout`: format.
  struct StdoutConfig {
    Format format = Format::kJson;
    static const settings::Schema<StdoutConfig>& Schema();
  };
  // `type: file`: path (required), format, max_bytes, max_files, fsync.
  struct FileConfig {
    Format format = Format::kJson;
    std::string path;
    int64_t max_bytes = Rotation{}.max_bytes;
    int max_files = Rotation{}.max_files;
    bool fsync = false;
    static const settings::Schema<FileConfig>& Schema();
  };
  static absl::StatusOr<std::unique_ptr<Sink>> CreateStdout(const StdoutConfig& config,
                                                            const SinkContext& ctx);
  static absl::StatusOr<std::unique_ptr<Sink>> CreateFile(const FileConfig& config,
                                                          const SinkContext& ctx);
  // Writes to `out`, which the caller owns (stdout, or a stream in tests).
  FileSink(Format format, std::FILE* out) : format_(format), out_(out) {}
  ~FileSink() override;

  absl::Status Deliver(absl::Span<const Alert* const> alerts) override;
  size_t max_batch() const override { return 64; }

 private:
  FileSink(Format format, std::string path, Rotation rotation, bool fsync)
      : format_(format), path_(std::move(path)), rotation_(rotation), fsync_(fsync) {}
  absl::Status Open();
  absl::Status Rotate();
  // After a failed write: drops what stdio holds and cuts the file back to `size` bytes (where
  // the batch began), so that the retry writes the batch whole and no torn line stays behind.
  void CutBack(uint64_t size);

  Format format_;
  std::FILE* out_ = nullptr;
  std::string path_;  // empty: out_ belongs to someone else
  Rotation rotation_;
  bool fsync_ = false;
  uint64_t size_ = 0;
  std::string buffer_;
};

}  // namespace faultline

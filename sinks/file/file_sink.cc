#include "sinks/file/file_sink.h"

#include <stdio_ext.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/strings.h"
#include "sinks/alert_text.h"

namespace faultline {
namespace {

const std::vector<std::pair<std::string, FileSink::Format>> kFormats = {
    {"json", FileSink::Format::kJson}, {"text", FileSink::Format::kText}};
constexpr char kFormatDoc[] =
    "json: one alert per line (the stable alert shape); text: a few readable lines per alert.";

absl::Status Unavailable(std::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(ToAbsl(what), " ", path.empty() ? "stdout" : path, ": ", std::strerror(errno)));
}

// check-config creates and truncates nothing, so it asks whether Open() would succeed: an
// existing file must be writable, a new one needs a directory it can be created in.
absl::Status CheckWritable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      return Unavailable("cannot open", path);
    }
    if (::access(path.c_str(), W_OK) != 0) return Unavailable("cannot open", path);
    return absl::OkStatus();
  }
  if (errno != ENOENT) return Unavailable("cannot open", path);
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return Unavailable("cannot open", path);
  return absl::OkStatus();
}

}  // namespace

const settings::Schema<FileSink::StdoutConfig>& FileSink::StdoutConfig::Schema() {
  static const auto* schema = &(*new settings::Schema<StdoutConfig>("Alerts to standard output."))
                                   .Choice("format", &StdoutConfig::format, kFormats, kFormatDoc);
  return *schema;
}

const settings::Schema<FileSink::FileConfig>& FileSink::FileConfig::Schema() {
  static const auto* schema =
      &(*new settings::Schema<FileConfig>(
            "Alerts appended to a file, rotated by size: F -> F.1 -> ... -> F.max_files."))
           .String("path", &FileConfig::path, "The file to write alerts to.", /*required=*/true)
           .Choice("format", &FileConfig::format, kFormats, kFormatDoc)
           .Integer("max_bytes", &FileConfig::max_bytes, 0, int64_t{1} << 50,
                    "Rotate when the file reaches this size; 0: never.")
           .Integer("max_files", &FileConfig::max_files, 1, 1000,
                    "Rotated files kept beside the current one.")
           .Bool("fsync", &FileConfig::fsync, "fsync after every batch (durable, slower).");
  return *schema;
}

absl::StatusOr<std::unique_ptr<Sink>> FileSink::CreateStdout(const StdoutConfig& config,
                                                             const SinkContext& ctx) {
  return std::make_unique<FileSink>(config.format, ctx.stdout_stream);
}

absl::StatusOr<std::unique_ptr<Sink>> FileSink::CreateFile(const FileConfig& config,
                                                           const SinkContext& ctx) {
  const Rotation rotation{.max_bytes = static_cast<uint64_t>(config.max_bytes),
                          .max_files = config.max_files};
  std::unique_ptr<FileSink> sink(new FileSink(config.format, config.path, rotation, config.fsync));
  if (ctx.dry_run) {
    if (absl::Status s = ctx.check_paths ? CheckWritable(config.path) : absl::OkStatus(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("path: ", s.message()));
    }
  } else if (absl::Status s = sink->Open(); !s.ok()) {
    // Deliver() opens it: each failure until then is a retry of the sink's queue (counted), and
    // nothing is acknowledged.
    LogWarning(absl::StrCat("file sink: ", s.message(), "; its alerts wait and are retried"));
  }
  return std::unique_ptr<Sink>(std::move(sink));
}

FileSink::~FileSink() {
  if (!path_.empty() && out_ != nullptr) std::fclose(out_);
}

absl::Status FileSink::Open() {
  out_ = std::fopen(path_.c_str(), "ae");
  if (out_ == nullptr) return Unavailable("cannot open", path_);
  struct stat st;
  size_ = ::fstat(::fileno(out_), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return absl::OkStatus();
}

absl::Status FileSink::Rotate() {
  // What this batch wrote so far must reach the file before it is renamed: a failure here is
  // the current file's, which CutBack can still cut.
  if (std::fflush(out_) != 0) return Unavailable("flush failed:", path_);
  const int closed = std::fclose(out_);
  out_ = nullptr;
  if (closed != 0) return Unavailable("close failed:", path_);
  for (int i = rotation_.max_files - 1; i >= 1; --i) {
    const std::string from = absl::StrCat(path_, ".", i), to = absl::StrCat(path_, ".", i + 1);
    if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return Unavailable("cannot rotate", from);
    }
  }
  if (std::rename(path_.c_str(), absl::StrCat(path_, ".1").c_str()) != 0) {
    return Unavailable("cannot rotate", path_);
  }
  return Open();
}

absl::Status FileSink::Deliver(absl::Span<const Alert* const> alerts) {
  if (out_ == nullptr) {
    if (absl::Status s = Open(); !s.ok()) return s;  // the last rotation failed half way
  }
  uint64_t batch_start = size_;  // where this batch begins in the current file
  absl::Status s = absl::OkStatus();
  for (const Alert* alert : alerts) {
    buffer_ = format_ == Format::kJson ? AlertToJson(*alert) + "\n" : FormatAlertText(*alert);
    if (!path_.empty() && rotation_.max_bytes > 0 && size_ > 0 &&
        size_ + buffer_.size() > rotation_.max_bytes) {
      // The alerts of this batch before the rotation stay in F.1: a retry writes them again
      // (the same fingerprints), whole.
      if (s = Rotate(); !s.ok()) break;
      batch_start = 0;
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size()) {
      s = Unavailable("write failed:", path_);
      break;
    }
    size_ += buffer_.size();
  }
  // Delivered means handed to the operating system (and to the disk with fsync: true); a reader
  // of the pipe or a tail -f sees each batch at once.
  if (s.ok() && std::fflush(out_) != 0) s = Unavailable("flush failed:", path_);
  if (s.ok() && fsync_ && ::fsync(::fileno(out_)) != 0) s = Unavailable("fsync failed:", path_);
  if (!s.ok()) CutBack(batch_start);
  return s;
}

void FileSink::CutBack(uint64_t size) {
  if (out_ == nullptr) return;  // closed by a failed rotation: Deliver opens it again
  __fpurge(out_);               // what stdio still holds of the batch would reach the file later
  std::clearerr(out_);
  if (path_.empty()) return;  // standard output cannot be cut
  // Never longer than the file is: something else (logrotate's copytruncate) may have cut it.
  struct stat now;
  if (::fstat(::fileno(out_), &now) == 0 && static_cast<uint64_t>(now.st_size) < size) {
    size = static_cast<uint64_t>(now.st_size);
  }
  if (::ftruncate(::fileno(out_), static_cast<off_t>(size)) == 0) {
    size_ = size;
    return;
  }
  LogError(absl::StrCat("file sink: cannot cut a failed write from ", path_, ": ",
                        std::strerror(errno), "; a torn line stays in it"));
  struct stat st;
  if (::fstat(::fileno(out_), &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
}

}  // namespace faultline

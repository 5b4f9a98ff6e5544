#include "sinks/file/file_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/strings.h"
#include "sinks/alert_text.h"

namespace faultline {
namespace {

FileSink::Format ReadFormat(SinkOptions& options) {
  return options.Choice("format", "json", {"json", "text"}) == "text" ? FileSink::Format::kText
                                                                      : FileSink::Format::kJson;
}

absl::Status Unavailable(std::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(ToAbsl(what), " ", path.empty() ? "stdout" : path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sink>> FileSink::CreateStdout(SinkOptions& options,
                                                             const SinkContext& ctx) {
  return std::make_unique<FileSink>(ReadFormat(options), ctx.stdout_stream);
}

absl::StatusOr<std::unique_ptr<Sink>> FileSink::CreateFile(SinkOptions& options,
                                                           const SinkContext& ctx) {
  const Format format = ReadFormat(options);
  const std::string path = options.String("path");
  if (path.empty()) options.Error("path", "required: the file to write alerts to");
  Rotation rotation;
  rotation.max_bytes = static_cast<uint64_t>(
      options.Integer("max_bytes", static_cast<int64_t>(rotation.max_bytes), 0, int64_t{1} << 50));
  rotation.max_files = static_cast<int>(options.Integer("max_files", rotation.max_files, 1, 1000));
  const bool fsync = options.Bool("fsync", false);
  std::unique_ptr<FileSink> sink(new FileSink(format, path, rotation, fsync));
  if (!path.empty() && !ctx.dry_run) {
    if (absl::Status s = sink->Open(); !s.ok()) {
      options.Error("path", s.message());
    }
  }
  return sink;
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
  std::fclose(out_);
  out_ = nullptr;
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
  for (const Alert* alert : alerts) {
    buffer_ = format_ == Format::kJson ? AlertToJson(*alert) + "\n" : FormatAlertText(*alert);
    if (!path_.empty() && rotation_.max_bytes > 0 && size_ > 0 &&
        size_ + buffer_.size() > rotation_.max_bytes) {
      if (absl::Status s = Rotate(); !s.ok()) return s;
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size()) {
      return Unavailable("write failed:", path_);
    }
    size_ += buffer_.size();
  }
  // Delivered means handed to the operating system (and to the disk with fsync: true); a reader
  // of the pipe or a tail -f sees each batch at once.
  if (std::fflush(out_) != 0) return Unavailable("flush failed:", path_);
  if (fsync_ && ::fsync(::fileno(out_)) != 0) return Unavailable("fsync failed:", path_);
  return absl::OkStatus();
}

}  // namespace faultline

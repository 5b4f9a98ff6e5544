#include "ingest/file/file_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace faultline {
namespace {

std::FILE* Open(const std::string& path) {
  return path == "-" ? stdin : std::fopen(path.c_str(), "rb");
}

}  // namespace

bool LineReader::Fill() {
  // read(2), not fread: a pipe's lines are handed on as they come, not once a chunk is full.
  const ssize_t n = ::read(fd_, chunk_.data(), chunk_.size());
  if (n <= 0) {
    if (n < 0 && errno == EINTR) {
      interrupted_ = true;  // a signal: the caller looks at its stop flag, then reads on
    } else {
      if (n < 0) error_ = errno;
      eof_ = true;
    }
    return false;
  }
  begin_ = 0;
  end_ = static_cast<size_t>(n);
  return true;
}

bool LineReader::Next(std::string_view* line) {
  interrupted_ = false;
  if (done_) {  // the line handed out last was kept here: it is over
    long_.clear();
    started_ = skipping_ = done_ = false;
  }
  while (true) {
    if (begin_ == end_ && (eof_ || !Fill())) {
      if (interrupted_ || !started_) return false;
      *line = long_;  // a last line with no newline
      done_ = true;
      return true;
    }
    const char* start = chunk_.data() + begin_;
    const size_t available = end_ - begin_;
    const char* newline = static_cast<const char*>(std::memchr(start, '\n', available));
    const size_t length = newline != nullptr ? static_cast<size_t>(newline - start) : available;
    begin_ += length + (newline != nullptr ? 1 : 0);
    if (newline != nullptr && !started_ && length <= max_) {
      *line = std::string_view(start, length);  // the common case: whole within the chunk
      return true;
    }
    started_ = true;
    if (!skipping_) {
      long_.append(start, std::min(length, max_ + 1 - long_.size()));
      skipping_ = long_.size() > max_;
    }
    if (newline != nullptr) {
      *line = long_;
      done_ = true;
      return true;
    }
  }
}

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Create(std::vector<std::string> paths,
                                                               Clock& clock,
                                                               size_t max_line_bytes) {
  if (paths.empty()) return absl::InvalidArgumentError("no input files given (use - for stdin)");
  for (const std::string& path : paths) {
    if (path == "-") continue;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {  // fopen would "open" it
      return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a file"));
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
    }
    std::fclose(f);
  }
  return std::unique_ptr<FileSource>(new FileSource(std::move(paths), clock, max_line_bytes));
}

void FileSource::WaitWhileSaturated(MessageHandler& handler, const std::atomic<bool>& stop) {
  const absl::Time now = clock_.TimeNow();
  if (now >= next_tick_) {
    handler.Tick();
    next_tick_ = now + absl::Seconds(1);
  }
  while (handler.Saturated() && !stop.load(std::memory_order_relaxed)) {
    clock_.SleepFor(absl::Milliseconds(10));
    if (clock_.TimeNow() >= next_tick_) {
      handler.Tick();
      next_tick_ = clock_.TimeNow() + absl::Seconds(1);
    }
  }
}

absl::Status FileSource::Run(MessageHandler& handler, const std::atomic<bool>& stop) {
  absl::Status status;
  for (const std::string& path : paths_) {
    std::FILE* f = Open(path);
    if (f == nullptr) {
      status = absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
      break;
    }
    // One reader per file, its chunk reused: no allocation per line in the steady state.
    LineReader reader(::fileno(f), max_line_bytes_);
    int64_t line_number = 0;
    std::string_view payload;
    while (!stop.load(std::memory_order_relaxed)) {
      if (!reader.Next(&payload)) {
        if (reader.interrupted()) continue;  // a signal: SIGTERM sets `stop`
        break;
      }
      ++line_number;
      // (A line cut at the limit keeps its length: it must still read as too large.)
      while (!payload.empty() && payload.back() == '\r' && payload.size() <= max_line_bytes_) {
        payload.remove_suffix(1);
      }
      if (payload.empty()) continue;
      handler.OnMessage(
          Message{.payload = payload, .origin = {.partition = -1, .offset = line_number}});
      if ((line_number & 1023) == 0 || handler.Saturated()) WaitWhileSaturated(handler, stop);
    }
    if (reader.error() != 0) {
      status =
          absl::DataLossError(absl::StrCat("reading ", path, " stopped at line ", line_number + 1,
                                           ": ", std::strerror(reader.error())));
    }
    if (f != stdin) std::fclose(f);
    if (!status.ok()) break;
  }
  handler.Drain();
  return status;
}

}  // namespace faultline

#include "ingest/file/file_source.h"

#include <sys/stat.h>

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

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Create(std::vector<std::string> paths,
                                                               Clock& clock) {
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
  return std::unique_ptr<FileSource>(new FileSource(std::move(paths), clock));
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
  char* line = nullptr;
  size_t capacity = 0;
  absl::Status status;
  for (const std::string& path : paths_) {
    std::FILE* f = Open(path);
    if (f == nullptr) {
      status = absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
      break;
    }
    int64_t line_number = 0;
    ssize_t n;
    // getline(3) reuses one growing buffer: no allocation per line in the steady state.
    while (!stop.load(std::memory_order_relaxed) && (n = ::getline(&line, &capacity, f)) >= 0) {
      ++line_number;
      std::string_view payload(line, n);
      while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) {
        payload.remove_suffix(1);
      }
      if (payload.empty()) continue;
      handler.OnMessage(
          Message{.payload = payload, .origin = {.partition = -1, .offset = line_number}});
      if ((line_number & 1023) == 0 || handler.Saturated()) WaitWhileSaturated(handler, stop);
    }
    if (f != stdin) std::fclose(f);
  }
  std::free(line);
  handler.Drain();
  return status;
}

}  // namespace faultline

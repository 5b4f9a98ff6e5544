#include "sinks/spool/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/log.h"

namespace faultline {
namespace {

constexpr size_t kHeaderBytes = 16;  // u32 length, u32 crc, u64 seq
constexpr uint32_t kMaxRecordBytes = 64 << 20;

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t Crc(const char* data, size_t n) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data), n));
}

absl::Status Errno(const char* what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("spool: ", what, " ", path, ": ", std::strerror(errno)));
}

bool ValidSinkName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// The whole file, or an error: a segment that cannot be read is not a damaged one.
absl::Status ReadFile(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  out->clear();
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& dir,
                                                   const std::vector<std::string>& sinks,
                                                   uint64_t segment_bytes) {
  for (const std::string& name : sinks) {
    if (!ValidSinkName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("spool: sink name \"", name, "\" must be letters, digits, '.', '_' or '-'"));
    }
  }
  // Unavailable like every other I/O failure here: a directory that cannot be created (read-only,
  // permission denied, a file in the way) is a fault of the host at run time, not a bad setting.
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return Errno("cannot create", dir);
  std::unique_ptr<Spool> spool(new Spool(dir, segment_bytes));
  for (const std::string& name : sinks) {
    spool->cursors_.push_back(std::make_unique<Cursor>());
    spool->cursors_.back()->name = name;
  }
  if (absl::Status s = spool->Recover(); !s.ok()) return s;
  if (absl::Status s = spool->OpenNewSegment(); !s.ok()) return s;
  return spool;
}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status Spool::Recover() {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Errno("cannot list", dir_);
  std::vector<std::pair<uint64_t, std::string>> files;
  std::vector<std::string> orphans;  // cursors of sinks no longer configured
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    uint64_t first;
    if (name.size() == 32 && absl::StartsWith(name, "segment-") && name.substr(28) == ".log" &&
        absl::SimpleAtoi(name.substr(8, 20), &first)) {
      files.emplace_back(first, dir_ + "/" + name);
    } else if (absl::StartsWith(name, "cursor.")) {
      const std::string sink = name.substr(7);
      bool known = false;
      for (const auto& c : cursors_) known = known || c->name == sink;
      if (!known) orphans.push_back(sink);
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  if (!orphans.empty()) {
    LogWarning(absl::StrCat(
        "spool: no configured sink is named ", absl::StrJoin(orphans, ", "),
        "; what the spool held for it is not delivered (give the sink that name back to)"));
  }

  // Cursors first: a sink without one starts after the newest record found below.
  std::vector<bool> has_cursor(cursors_.size(), false);
  for (size_t i = 0; i < cursors_.size(); ++i) {
    std::ifstream in(dir_ + "/cursor." + cursors_[i]->name);
    uint64_t seq;
    if (in >> seq) {
      cursors_[i]->delivered.store(seq);
      cursors_[i]->persisted = seq;
      has_cursor[i] = true;
    }
  }
  uint64_t min_cursor = UINT64_MAX;
  for (size_t i = 0; i < cursors_.size(); ++i) {
    if (has_cursor[i]) min_cursor = std::min(min_cursor, cursors_[i]->persisted);
  }

  pending_.assign(cursors_.size(), {});
  uint64_t last_seq = 0;
  std::string data;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string& path = files[f].second;
    if (absl::Status s = ReadFile(path, &data); !s.ok()) return s;
    Segment seg{.path = path, .first_seq = files[f].first};
    size_t pos = 0;
    while (pos + kHeaderBytes <= data.size()) {
      const auto len = static_cast<uint32_t>(GetLE(data.data() + pos, 4));
      const auto crc = static_cast<uint32_t>(GetLE(data.data() + pos + 4, 4));
      if (len > kMaxRecordBytes || pos + kHeaderBytes + len > data.size() ||
          Crc(data.data() + pos + 8, 8 + len) != crc) {
        break;
      }
      const uint64_t seq = GetLE(data.data() + pos + 8, 8);
      if (seq > min_cursor) {  // someone still needs it
        auto alert = std::make_shared<Alert>();
        if (alert->ParseFromArray(data.data() + pos + kHeaderBytes, static_cast<int>(len))) {
          for (size_t i = 0; i < cursors_.size(); ++i) {
            if (has_cursor[i] && seq > cursors_[i]->persisted) pending_[i].push_back({seq, alert});
          }
        }
      }
      seg.last_seq = seq;
      last_seq = std::max(last_seq, seq);
      pos += kHeaderBytes + len;
    }
    if (pos < data.size()) {
      ++stats_.corrupt;
      if (f + 1 == files.size()) {
        // A torn write at the end of the newest segment (a crash mid-append): cut it off, so
        // the next appends follow the last good record.
        LogWarning(absl::StrCat("spool: ", path, ": cutting a torn record of ", data.size() - pos,
                                " byte(s) at offset ", pos));
        if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0) return Errno("truncate", path);
      } else {
        // Damage inside an older segment: what follows it there is lost; leave the file as it
        // is for whoever investigates, and read on in the next segment.
        LogError(absl::StrCat("spool: ", path, ": damaged record at offset ", pos, "; ",
                              data.size() - pos, " byte(s) after it skipped"));
      }
    }
    seg.bytes = f + 1 == files.size() ? pos : data.size();
    if (seg.last_seq == 0) {
      ::unlink(path.c_str());  // nothing readable in it
      continue;
    }
    segments_.push_back(seg);
    stats_.bytes += seg.bytes;
  }
  for (size_t i = 0; i < cursors_.size(); ++i) {
    if (!has_cursor[i]) {
      cursors_[i]->delivered.store(last_seq);
      cursors_[i]->persisted = UINT64_MAX;  // written at the first checkpoint
    }
    stats_.recovered += pending_[i].size();
  }
  uint64_t max_cursor = 0;
  for (const auto& c : cursors_) max_cursor = std::max(max_cursor, c->delivered.load());
  next_seq_ = std::max(last_seq, max_cursor) + 1;
  return absl::OkStatus();
}

absl::Status Spool::OpenNewSegment() {
  if (fd_ >= 0) ::close(fd_);
  Segment seg{.path = absl::StrFormat("%s/segment-%020d.log", dir_, next_seq_),
              .first_seq = next_seq_};
  fd_ = ::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return Errno("cannot open", seg.path);
  segments_.push_back(seg);
  stats_.segments = segments_.size();
  return SyncDir();
}

absl::Status Spool::SyncDir() {
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("cannot open", dir_);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  return rc == 0 ? absl::OkStatus() : Errno("fsync", dir_);
}

std::vector<Spool::Record> Spool::Pending(size_t index) const { return pending_[index]; }

absl::Status Spool::Append(std::vector<Record>& records) {
  if (records.empty()) return absl::OkStatus();
  if (segments_.back().bytes >= segment_bytes_) {
    if (absl::Status s = OpenNewSegment(); !s.ok()) return s;
  }
  Segment& seg = segments_.back();
  std::string buffer, body;
  uint64_t seq = next_seq_;
  for (Record& r : records) {
    r.seq = seq++;
    body.clear();
    PutU64(&body, r.seq);
    r.alert->AppendToString(&body);
    PutU32(&buffer, static_cast<uint32_t>(body.size() - 8));
    PutU32(&buffer, Crc(body.data(), body.size()));
    buffer += body;
  }
  absl::Status s = WriteAll(fd_, buffer, seg.path);
  if (s.ok() && ::fdatasync(fd_) != 0) s = Errno("fdatasync", seg.path);
  if (!s.ok()) {
    // Leave no half batch behind: the retry appends it whole. If the tail cannot be cut, the
    // segment ends there (recovery stops at the broken record) and the retry starts a new one.
    if (::ftruncate(fd_, static_cast<off_t>(seg.bytes)) != 0) {
      LogError(absl::StrCat("spool: cannot cut a failed append from ", seg.path,
                            "; continuing in a new segment"));
      if (absl::Status n = OpenNewSegment(); !n.ok()) LogError(n.message());
    }
    return s;
  }
  next_seq_ = seq;
  seg.last_seq = records.back().seq;
  seg.bytes += buffer.size();
  stats_.bytes += buffer.size();
  return absl::OkStatus();
}

void Spool::Delivered(size_t index, uint64_t seq) {
  std::atomic<uint64_t>& c = cursors_[index]->delivered;
  uint64_t seen = c.load(std::memory_order_relaxed);
  while (seq > seen && !c.compare_exchange_weak(seen, seq, std::memory_order_relaxed)) {
  }
}

absl::Status Spool::Checkpoint() {
  absl::Status result;
  for (const auto& cursor : cursors_) {
    const uint64_t delivered = cursor->delivered.load(std::memory_order_relaxed);
    if (delivered == cursor->persisted) continue;
    // "tmp-" cannot begin a cursor file's name, whatever the sink is called.
    const std::string path = dir_ + "/cursor." + cursor->name;
    const std::string tmp = dir_ + "/tmp-cursor." + cursor->name;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    absl::Status s = fd < 0 ? Errno("cannot write", tmp) : absl::OkStatus();
    if (s.ok()) s = WriteAll(fd, absl::StrCat(delivered, "\n"), tmp);
    if (s.ok() && ::fdatasync(fd) != 0) s = Errno("fdatasync", tmp);
    if (fd >= 0) ::close(fd);
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("rename", tmp);
    if (s.ok()) {
      cursor->persisted = delivered;
    } else if (result.ok()) {
      result = s;  // the others are still tried: a full disk may have room for a rename
    }
  }
  if (absl::Status s = SyncDir(); !s.ok() && result.ok()) result = s;
  // Only what every sink's *persisted* cursor has passed: after a crash the files must still
  // hold everything a cursor on disk says is undelivered.
  uint64_t min_persisted = UINT64_MAX;
  for (const auto& cursor : cursors_) min_persisted = std::min(min_persisted, cursor->persisted);
  while (segments_.size() > 1 && segments_.front().last_seq <= min_persisted) {
    if (::unlink(segments_.front().path.c_str()) != 0 && errno != ENOENT) {
      if (result.ok()) result = Errno("cannot delete", segments_.front().path);
      break;
    }
    stats_.bytes -= segments_.front().bytes;
    segments_.erase(segments_.begin());
  }
  stats_.segments = segments_.size();
  return result;
}

}  // namespace faultline

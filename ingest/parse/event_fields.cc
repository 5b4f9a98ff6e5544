#include "ingest/parse/event_fields.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "core/strings.h"

namespace faultline {
namespace {

// 1-based insertion-string positions of the fields faultline needs, per (provider, event id),
// from windows-events.md section 2. 0 means "not carried". WAS 5074-5080 and 5186 put the pid
// first and the pool second.
struct Positions {
  uint8_t pool = 0, pid = 0, exit_code = 0;
  uint8_t app = 0, module = 0, exception = 0;
  uint8_t service = 0, occurrences = 0;
  bool pid_hex = false;
};

Positions PositionsFor(Provider provider, uint32_t id) {
  switch (provider) {
    case Provider::kWas:
      if (id == kWasAppPoolDisabled || id == kWasAppPoolDisabledIdentity ||
          id == kWasAppPoolDisabledStartFailure || id == 5117) {
        return {.pool = 1};
      }
      if (id == kWasWorkerTerminated) return {.pool = 1, .pid = 2, .exit_code = 3};
      if ((id >= kWasWorkerPingFailed && id <= kWasWorkerShutdownTimeLimit) || id == 5127) {
        return {.pool = 1, .pid = 2};
      }
      if ((id >= kWasWorkerRecycledFirst && id <= kWasWorkerRecycledLast) ||
          id == kWasWorkerIdleShutdown) {
        return {.pool = 2, .pid = 1};
      }
      return {};
    case Provider::kW3svc:
      if (id == kW3svcAppPoolDisabled) return {.pool = 1};
      if (id == kW3svcWorkerTerminated) return {.pool = 1, .pid = 2, .exit_code = 3};
      if (id > kW3svcWorkerTerminated && id <= kW3svcWorkerShutdownTimeLimit) {
        return {.pool = 1, .pid = 2};
      }
      return {};
    case Provider::kApplicationError:
      if (id == kApplicationErrorFaultingApp) {
        return {.pid = 9, .app = 1, .module = 4, .exception = 7, .pid_hex = true};
      }
      return {};
    case Provider::kWindowsErrorReporting:
      // Legacy layout: 1 bucket, 2 type, 3 event name, 4 response, 5 cab id, 6.. P1..P10.
      if (id == kWerReport) return {.app = 6, .module = 9, .exception = 12};
      return {};
    case Provider::kServiceControlManager:
      if (id == kScmServiceTerminatedUnexpectedly || id == kScmServiceTerminatedNoRecovery) {
        return {.service = 1, .occurrences = 2};
      }
      if (id == kScmServiceStateChanged) return {.service = 1};
      return {};
    default:  // companions and others: nothing by position
      return {};
  }
  return {};
}

std::string_view Param(const RawFields& raw, uint8_t position) {
  if (position == 0 || position > RawFields::kMaxParams) return {};
  return raw.params[position - 1];
}

std::string_view Pick(std::string_view named, const RawFields& raw, uint8_t position) {
  return named.empty() ? Param(raw, position) : named;
}

// The text between `prefix` and the next `terminator`. Windows renders these messages from
// fixed templates, so the prefix is matched exactly (a memchr-driven find; a case-insensitive
// scan cost ~10% of parsing a WAS event).
std::string_view Between(std::string_view text, std::string_view prefix,
                         std::string_view terminator) {
  const size_t at = text.find(prefix);
  if (at == std::string_view::npos) return {};
  const size_t start = at + prefix.size();
  const size_t end = text.find(terminator, start);
  if (end == std::string_view::npos) return {};
  return text.substr(start, end - start);
}

bool StartsWith0x(std::string_view s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

}  // namespace

bool ParseUint32(std::string_view text, bool hex, uint32_t* out) {
  text = StripWhitespace(text);
  if (StartsWith0x(text)) {
    hex = true;
    text.remove_prefix(2);
  }
  if (text.empty() || text.size() > (hex ? 8u : 10u)) return false;
  uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (hex && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (hex && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v * (hex ? 16 : 10) + d;
  }
  if (v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool ParseUint64(std::string_view text, uint64_t* out) {
  text = StripWhitespace(text);
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The decoded bytes of a Binary: service key names are short, so a fixed buffer (no allocation
// per 7036, which is a third of a typical System log).
constexpr size_t kMaxBinaryBytes = 512;
struct Bytes {
  std::array<char, kMaxBinaryBytes> data;
  size_t size = 0;
  bool push_back(char c) {
    if (size == data.size()) return false;
    data[size++] = c;
    return true;
  }
  std::string_view view() const { return {data.data(), size}; }
};

// The bytes `text` encodes in hex; false if it is not hex (or too long to be a name).
bool FromHex(std::string_view text, Bytes* bytes) {
  if (text.size() % 2 != 0) return false;
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0 || !bytes->push_back(static_cast<char>(hi << 4 | lo))) return false;
  }
  return true;
}

// The bytes `text` encodes in base64 (padded, as python-evtx writes it).
bool FromBase64(std::string_view text, Bytes* bytes) {
  if (text.size() % 4 != 0 || text.size() / 4 * 3 > bytes->data.size()) return false;
  for (size_t i = 0; i < text.size(); i += 4) {
    int d[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        d[j] = 0;
        ++pad;
      } else if (pad > 0 || (d[j] = Base64Digit(c)) < 0) {
        return false;
      }
    }
    const uint32_t v = d[0] << 18 | d[1] << 12 | d[2] << 6 | d[3];
    bytes->push_back(static_cast<char>(v >> 16));
    if (pad < 2) bytes->push_back(static_cast<char>(v >> 8 & 0xFF));
    if (pad < 1) bytes->push_back(static_cast<char>(v & 0xFF));
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | cp >> 6));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | cp >> 12));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | cp >> 18));
    out->push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// UTF-16LE `bytes` up to the first NUL, as UTF-8; false on an odd length, an unpaired surrogate
// or a control character (not a service name: the bytes were something else).
bool Utf16LeToUtf8(std::string_view bytes, std::string* out) {
  out->clear();
  if (bytes.size() % 2 != 0) return false;
  auto unit = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) |
           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
  };
  for (size_t i = 0; i + 2 <= bytes.size(); i += 2) {
    uint32_t cp = unit(i);
    if (cp == 0) break;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 4 > bytes.size()) return false;
      const uint32_t low = unit(i + 2);
      if (low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return false;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return false;
    AppendUtf8(cp, out);
  }
  return !out->empty();
}

// The common case, fast (a third of a System log is 7036 with such a key): hex of ASCII
// UTF-16LE ("57003300...", "W3"), decoded straight into `out`. False if it is anything else.
bool AsciiFromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 4 != 0 || hex.size() > 2 * kMaxBinaryBytes) return false;
  bool ended = false;  // past the NUL: the rest must still be hex, as the general path wants
  for (size_t i = 0; i + 4 <= hex.size(); i += 4) {
    const int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0 || hex[i + 2] != '0' || hex[i + 3] != '0') return false;
    const int c = hi << 4 | lo;
    if (c == 0) ended = true;
    if (ended) continue;
    if (c < 0x20 || c >= 0x7F) return false;
    out->push_back(static_cast<char>(c));
  }
  return !out->empty();
}

}  // namespace

bool DecodeUtf16LeBinary(std::string_view binary, std::string* out) {
  out->clear();
  binary = StripWhitespace(binary);
  if (AsciiFromHex(binary, out)) return true;
  out->clear();
  // Text of hex digits is hex: base64 of a real name always has other letters, and reading hex
  // as base64 would turn garbage into plausible CJK text.
  Bytes bytes;
  const bool hex = FromHex(binary, &bytes);
  const bool decoded =
      hex ? Utf16LeToUtf8(bytes.view(), out)
          : (bytes.size = 0, FromBase64(binary, &bytes)) && Utf16LeToUtf8(bytes.view(), out);
  if (!decoded) out->clear();
  return decoded;
}

std::string_view ParamName(size_t position, std::array<char, 32>* buffer) {
  constexpr std::string_view kPrefix = "param";
  std::memcpy(buffer->data(), kPrefix.data(), kPrefix.size());
  char* const end =
      std::to_chars(buffer->data() + kPrefix.size(), buffer->data() + buffer->size(), position).ptr;
  return std::string_view(buffer->data(), end - buffer->data());
}

std::string_view* RawFields::SlotFor(std::string_view name) {
  if (name.size() > 5 && name.substr(0, 5) == "param") {
    uint32_t n;
    if (!ParseUint32(name.substr(5), false, &n) || n == 0 || n > kMaxParams) return nullptr;
    return &params[n - 1];
  }
  // Provider manifests differ in case (ProcessID on WAS, ProcessId on Application Error).
  if (EqualsIgnoreCase(name, "AppPoolID") || EqualsIgnoreCase(name, "AppPoolName")) {
    return &app_pool;
  }
  if (EqualsIgnoreCase(name, "ProcessID")) return &pid;
  if (name == "ExitCode") return &exit_code;
  if (name == "AppName" || name == "P1") return &faulting_app;
  if (name == "ModuleName" || name == "P4") return &faulting_module;
  if (name == "ExceptionCode" || name == "P7") return &exception_code;
  if (name == "Binary") return &binary;
  if (name == "ModuleDll") return &module_dll;
  return nullptr;
}

void ResolveEventFields(const RawFields& raw, Event* event) {
  if (IsCompanion(event->provider, event->event_id)) {
    std::string_view detail = raw.module_dll;
    if (detail.empty()) detail = raw.message.substr(0, raw.message.find('\n'));
    event->detail.assign(StripWhitespace(detail.substr(0, 200)));
  }
  const Positions pos = PositionsFor(event->provider, event->event_id);
  if (pos.pool) {
    std::string_view pool = Pick(raw.app_pool, raw, pos.pool);
    if (pool.empty()) pool = Between(raw.message, "pplication pool '", "'");  // A or a
    event->app_pool.assign(pool);
  }
  if (pos.pid) {
    std::string_view pid = Pick(raw.pid, raw, pos.pid);
    if (pid.empty()) pid = Between(raw.message, "process id was '", "'");
    if (pid.empty()) pid = Between(raw.message, "process id of '", "'");
    if (pid.empty()) pid = Between(raw.message, "process ID '", "'");
    uint32_t v;
    if (ParseUint32(pid, pos.pid_hex, &v)) event->pid = v;
  }
  if (pos.exit_code) {
    std::string_view code = Pick(raw.exit_code, raw, pos.exit_code);
    if (code.empty()) code = Between(raw.message, "exit code was '", "'");
    uint32_t v;
    if (ParseUint32(code, true, &v)) event->exit_code = v;
  }
  if (pos.app) event->faulting_app.assign(Pick(raw.faulting_app, raw, pos.app));
  if (pos.module) event->faulting_module.assign(Pick(raw.faulting_module, raw, pos.module));
  if (pos.exception) {
    uint32_t v;
    if (ParseUint32(Pick(raw.exception_code, raw, pos.exception), true, &v)) {
      event->exception_code = v;
    }
  }
  if (pos.service) {
    // The Binary holds the service key name (language independent); 7036 writes "key/state".
    if (!raw.binary.empty() && DecodeUtf16LeBinary(raw.binary, &event->service)) {
      const size_t slash = event->service.find('/');
      if (slash != std::string::npos) event->service.resize(slash);
    }
  }
  if (pos.service && event->service.empty()) {
    std::string_view service = Param(raw, pos.service);
    if (service.empty()) service = Between(raw.message, "The ", " service terminated");
    event->service.assign(service);
  }
  if (pos.occurrences) {
    std::string_view n = Param(raw, pos.occurrences);
    if (n.empty()) n = Between(raw.message, "done this ", " time");
    uint32_t v;
    if (ParseUint32(n, false, &v)) event->occurrences = v;
  }
}

}  // namespace faultline

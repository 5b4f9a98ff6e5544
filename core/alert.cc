#include "core/alert.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace faultline {

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1'000'000'000 - (nanos % 1'000'000'000 < 0 ? 1 : 0));
  ts.set_nanos(static_cast<int32_t>(((nanos % 1'000'000'000) + 1'000'000'000) % 1'000'000'000));
  return ts;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

namespace {

// Text protobuf's printer writes as it is: printable ASCII but the quote, the backslash and
// < and > (it writes \u003c and \u003e). Other text, UTF-8 beyond ASCII included (it escapes some
// of it), is left to protobuf.
bool Plain(std::string_view s) {
  for (const unsigned char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>') return false;
  }
  return true;
}

class Printer {
 public:
  explicit Printer(std::string* out) : out_(*out) {}
  bool ok() const { return ok_; }

  void Open(char c) {
    out_ += c;
    first_ = true;
  }
  void Close(char c) {
    out_ += c;
    first_ = false;
  }
  void Key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_.append(name);
    out_ += "\":";
  }
  void String(std::string_view name, std::string_view value) {
    Key(name);
    Quoted(value);
  }
  // A map's entry: its key is text from outside too.
  void Entry(std::string_view key, std::string_view value) {
    ok_ = ok_ && Plain(key);
    String(key, value);
  }
  void Quoted(std::string_view value) {
    ok_ = ok_ && Plain(value);
    out_ += '"';
    out_.append(value);
    out_ += '"';
  }
  void Unsigned(std::string_view name, uint64_t value) {
    Key(name);
    absl::StrAppend(&out_, value);
  }
  // proto3 JSON writes 64-bit integers as strings.
  void Unsigned64(std::string_view name, uint64_t value) {
    Key(name);
    absl::StrAppend(&out_, "\"", value, "\"");
  }
  // As protobuf's SimpleDtoa: the shortest of 15 or 17 significant digits that reads back.
  void Double(std::string_view name, double value) {
    Key(name);
    if (!std::isfinite(value) || (value == 0 && std::signbit(value))) {
      ok_ = false;  // "NaN", "-0": left to protobuf
      return;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.15g", value);
    if (std::strtod(buffer, nullptr) != value) {
      std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    }
    out_.append(buffer);
  }
  // RFC 3339 in UTC, the fraction in 3, 6 or 9 digits when there is one, as protobuf's
  // TimeUtil::ToString.
  void Time(std::string_view name, const google::protobuf::Timestamp& t) {
    Key(name);
    constexpr int64_t kMin = -62135596800, kMax = 253402300799;  // 0001-01-01 .. 9999-12-31
    if (t.seconds() < kMin || t.seconds() > kMax || t.nanos() < 0 || t.nanos() > 999999999) {
      ok_ = false;
      return;
    }
    const absl::CivilSecond c =
        absl::ToCivilSecond(absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone());
    out_.append(absl::StrFormat("\"%04d-%02d-%02dT%02d:%02d:%02d", c.year(), c.month(), c.day(),
                                c.hour(), c.minute(), c.second()));
    if (const int32_t nanos = t.nanos(); nanos != 0) {
      if (nanos % 1'000'000 == 0) {
        out_.append(absl::StrFormat(".%03d", nanos / 1'000'000));
      } else if (nanos % 1'000 == 0) {
        out_.append(absl::StrFormat(".%06d", nanos / 1'000));
      } else {
        out_.append(absl::StrFormat(".%09d", nanos));
      }
    }
    out_ += "Z\"";
  }

 private:
  std::string& out_;
  bool first_ = true;
  bool ok_ = true;
};

// The fields in the order protobuf's printer puts them with always_print_primitive_fields:
// declaration order, but a Timestamp (a message, not a primitive) after the rest, when set.
void PrintEvidence(Printer& p, const Evidence& e) {
  p.Open('{');
  p.String("provider", e.provider());
  p.Unsigned("event_id", e.event_id());
  p.Unsigned("pid", e.pid());
  p.String("exit_code", e.exit_code());
  p.String("exception_code", e.exception_code());
  p.String("meaning", e.meaning());
  p.String("faulting_module", e.faulting_module());
  p.Unsigned64("record_id", e.record_id());
  p.String("kind", e.kind());
  p.String("detail", e.detail());
  if (e.has_time()) p.Time("time", e.time());
  p.Close('}');
}

}  // namespace

std::string AlertToJson(const Alert& alert) {
  // By hand, as protobuf prints it (AlertToJsonTest compares the two on every shape of alert):
  // protobuf's printer costs tens of microseconds an alert, and a Sigma rule set can raise
  // thousands. What this printer does not write exactly as protobuf (text with characters to
  // escape, a time out of RFC 3339's range, a NaN) is left to protobuf.
  std::string out;
  out.reserve(512 + 256 * static_cast<size_t>(alert.evidence_size()));
  Printer p(&out);
  p.Open('{');
  p.String("rule", alert.rule());
  p.String("severity", alert.severity());
  p.String("status", alert.status());
  p.String("host", alert.host());
  p.String("app_pool", alert.app_pool());
  p.String("service", alert.service());
  p.Unsigned("count", alert.count());
  p.Unsigned("window_seconds", alert.window_seconds());
  p.String("fingerprint", alert.fingerprint());
  p.String("summary", alert.summary());
  p.Key("evidence");
  p.Open('[');
  bool first = true;
  for (const Evidence& e : alert.evidence()) {
    if (!first) out += ',';
    first = false;
    PrintEvidence(p, e);
  }
  p.Close(']');
  p.Key("labels");
  p.Open('{');
  // Sorted: protobuf prints a map in its hash order, which is no order at all.
  std::vector<std::pair<std::string_view, std::string_view>> labels(alert.labels().begin(),
                                                                    alert.labels().end());
  std::sort(labels.begin(), labels.end());
  for (const auto& [key, value] : labels) p.Entry(key, value);
  p.Close('}');
  p.String("incident_id", alert.incident_id());
  p.Unsigned("sequence", alert.sequence());
  p.Double("detection_delay_seconds", alert.detection_delay_seconds());
  p.Double("host_clock_offset_seconds", alert.host_clock_offset_seconds());
  if (alert.has_first_event_time()) p.Time("first_event_time", alert.first_event_time());
  if (alert.has_last_event_time()) p.Time("last_event_time", alert.last_event_time());
  p.Close('}');
  if (p.ok()) return out;
  return AlertToJsonByProtobuf(alert);
}

std::string AlertToJsonByProtobuf(const Alert& alert) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Cannot fail for a message without Any fields; an empty string would surface in tests.
  (void)google::protobuf::util::MessageToJsonString(alert, &out, options);
  return out;
}

std::string StableId(std::initializer_list<std::string_view> parts) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::string_view part : parts) {
    for (unsigned char c : part) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0x1f;  // separator, so ("ab","c") and ("a","bc") differ
    h *= 0x100000001b3ULL;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace faultline

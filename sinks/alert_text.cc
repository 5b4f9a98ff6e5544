#include "sinks/alert_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/printable.h"

namespace faultline {
namespace {

std::string Clock(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromProtoTime(t), absl::UTCTimeZone());
}

// "<sep>pid=4312<sep>exit=0x800703E9<sep>(stack overflow)<sep>detail": what an evidence entry
// carries beyond its time, kind, provider and id.
void AppendDetails(std::string* out, const Evidence& e, const char* sep) {
  if (e.pid() != 0) absl::StrAppend(out, sep, "pid=", e.pid());
  if (!e.exit_code().empty()) absl::StrAppend(out, sep, "exit=", Printable(e.exit_code()));
  if (!e.exception_code().empty()) {
    absl::StrAppend(out, sep, "exception=", Printable(e.exception_code()));
  }
  if (!e.faulting_module().empty()) {
    absl::StrAppend(out, sep, "module=", Printable(e.faulting_module()));
  }
  if (!e.meaning().empty()) absl::StrAppend(out, sep, "(", Printable(e.meaning()), ")");
  if (!e.detail().empty()) absl::StrAppend(out, sep, Printable(e.detail()));
}

}  // namespace

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", FromProtoTime(t), absl::UTCTimeZone());
}

std::string EvidenceLine(const Evidence& e) {
  std::string out = absl::StrCat(Rfc3339(e.time()), " ", Printable(e.kind()), " ",
                                 Printable(e.provider()), " ", e.event_id());
  AppendDetails(&out, e, " ");
  return out;
}

std::string FormatAlertText(const Alert& alert) {
  // Every text from the alert made printable: a host name must not forge a line of its own.
  std::string out =
      absl::StrFormat("[%s] %s %s  host=%s", Printable(alert.severity()), Printable(alert.rule()),
                      Printable(alert.status()), Printable(alert.host()));
  if (!alert.app_pool().empty()) absl::StrAppend(&out, " app_pool=", Printable(alert.app_pool()));
  if (!alert.service().empty()) absl::StrAppend(&out, " service=", Printable(alert.service()));
  absl::StrAppendFormat(&out, "  count=%d  %s .. %s\n  %s\n", alert.count(),
                        Clock(alert.first_event_time()), Clock(alert.last_event_time()),
                        SummaryText(alert));
  for (const Evidence& e : alert.evidence()) {
    absl::StrAppendFormat(&out, "    %s  %-8s %s %d", Clock(e.time()), Printable(e.kind()),
                          Printable(e.provider()), e.event_id());
    AppendDetails(&out, e, "  ");
    out.push_back('\n');
  }
  absl::StrAppend(&out, "  fingerprint=", Printable(alert.fingerprint()),
                  "  incident=", Printable(alert.incident_id()), "  sequence=", alert.sequence(),
                  "\n\n");
  return out;
}

std::string IdempotencyKey(const Alert& alert) {
  return absl::StrCat(alert.fingerprint(), "-", alert.status(), "-", alert.sequence());
}

std::string WhereText(const Alert& a) {
  std::vector<std::string> parts;
  if (!a.host().empty()) parts.push_back(Printable(a.host()));
  if (!a.app_pool().empty()) parts.push_back(Printable(a.app_pool()));
  if (!a.service().empty()) parts.push_back(Printable(a.service()));
  return absl::StrJoin(parts, " / ");
}

std::string SummaryText(const Alert& a) { return Printable(a.summary()); }

std::vector<Fact> AlertFacts(const Alert& a) {
  std::vector<Fact> facts = {
      {"Status", Printable(a.status())},
      {"Severity", Printable(a.severity())},
      {"Host", Printable(a.host())},
      {"App pool", Printable(a.app_pool())},
      {"Service", Printable(a.service())},
      {"Count",
       absl::StrCat(a.count(), " in ", absl::FormatDuration(absl::Seconds(a.window_seconds())))},
      {"Events", absl::StrCat(Rfc3339(a.first_event_time()), " .. ", Rfc3339(a.last_event_time()))},
  };
  std::erase_if(facts, [](const Fact& f) { return f.value.empty(); });
  return facts;
}

std::vector<std::string> EvidenceLines(const Alert& a, size_t max_lines) {
  std::vector<std::string> lines;
  for (const Evidence& e : a.evidence()) {
    if (lines.size() == max_lines) {
      lines.push_back(absl::StrCat("... and ", a.evidence_size() - max_lines, " more"));
      break;
    }
    lines.push_back(EvidenceLine(e));
  }
  return lines;
}

std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
  return s;
}

}  // namespace faultline

#include "detect/alert_builder.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/exit_codes.h"
#include "core/strings.h"

namespace faultline {

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

Alert NewAlert(std::string_view rule, std::string_view severity, const AlertState& state,
               std::string_view key, absl::Time incident_start, absl::Duration window,
               const std::map<std::string, std::string>& labels) {
  Alert alert;
  alert.set_rule(std::string(rule));
  alert.set_severity(std::string(severity));
  alert.set_status(state.firing() ? "firing" : "resolved");
  alert.set_sequence(state.sequence());
  const std::string start = TimeText(incident_start);
  alert.set_fingerprint(StableId({rule, key, start}));
  alert.set_incident_id(StableId({key, start}));
  alert.set_window_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(window)));
  for (const auto& [k, v] : labels) (*alert.mutable_labels())[k] = v;
  return alert;
}

Evidence* AddEvidence(Alert* alert, std::string_view kind, Provider provider, uint32_t event_id,
                      absl::Time time, uint32_t pid, uint64_t record_id,
                      std::optional<uint32_t> exit_code, std::optional<uint32_t> exception_code,
                      std::string_view detail) {
  Evidence* e = alert->add_evidence();
  e->set_kind(std::string(kind));
  e->set_provider(std::string(ProviderName(provider)));
  e->set_event_id(event_id);
  *e->mutable_time() = ToProtoTime(time);
  e->set_pid(pid);
  e->set_record_id(record_id);
  if (exit_code) e->set_exit_code(FormatCode(*exit_code));
  if (exception_code) e->set_exception_code(FormatCode(*exception_code));
  const std::optional<uint32_t> code = exception_code ? exception_code : exit_code;
  if (code) e->set_meaning(std::string(DescribeExitCode(*code)));
  e->set_detail(std::string(detail));
  return e;
}

std::string HumanDuration(absl::Duration d) {
  struct Unit {
    const char* name;
    int64_t seconds;
  };
  static constexpr Unit kUnits[] = {{"year", int64_t{365} * 86400},
                                    {"day", 86400},
                                    {"hour", 3600},
                                    {"minute", 60},
                                    {"second", 1}};
  int64_t left = absl::ToInt64Seconds(absl::AbsDuration(d));
  std::string out;
  int parts = 0;
  for (const Unit& u : kUnits) {
    const int64_t n = left / u.seconds;
    if (n == 0) {
      if (parts > 0) break;  // "2 hours", not "2 hours 0 minutes"
      continue;
    }
    left -= n * u.seconds;
    absl::StrAppend(&out, out.empty() ? "" : " ", n, " ", u.name, n == 1 ? "" : "s");
    if (++parts == 2) break;
  }
  return out.empty() ? "0 seconds" : out;
}

std::string CodesText(const std::vector<uint32_t>& codes) {
  std::vector<std::string> parts;
  for (uint32_t code : codes) {
    const std::string_view meaning = DescribeExitCode(code);
    parts.push_back(meaning.empty() ? FormatCode(code)
                                    : absl::StrCat(FormatCode(code), " ", ToAbsl(meaning)));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace faultline

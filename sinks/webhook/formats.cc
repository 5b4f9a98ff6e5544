#include "sinks/webhook/formats.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/json_writer.h"
#include "core/printable.h"
#include "core/strings.h"
#include "sinks/alert_text.h"

namespace faultline {
namespace {

// Slack mrkdwn: &, < and > are control characters (and text from events is made printable).
std::string SlackEscape(std::string_view s) {
  return absl::StrReplaceAll(Printable(s), {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}});
}

const char* const kFieldNames[] = {"rule",
                                   "severity",
                                   "status",
                                   "host",
                                   "app_pool",
                                   "service",
                                   "count",
                                   "window_seconds",
                                   "first_event_time",
                                   "last_event_time",
                                   "fingerprint",
                                   "incident_id",
                                   "sequence",
                                   "idempotency_key",
                                   "summary",
                                   "evidence",
                                   "alert"};

std::string FieldValue(const Alert& a, std::string_view name) {
  if (name == "rule") return a.rule();
  if (name == "severity") return a.severity();
  if (name == "status") return a.status();
  if (name == "host") return a.host();
  if (name == "app_pool") return a.app_pool();
  if (name == "service") return a.service();
  if (name == "count") return absl::StrCat(a.count());
  if (name == "window_seconds") return absl::StrCat(a.window_seconds());
  if (name == "first_event_time") return Rfc3339(a.first_event_time());
  if (name == "last_event_time") return Rfc3339(a.last_event_time());
  if (name == "fingerprint") return a.fingerprint();
  if (name == "incident_id") return a.incident_id();
  if (name == "sequence") return absl::StrCat(a.sequence());
  if (name == "idempotency_key") return IdempotencyKey(a);
  if (name == "summary") return a.summary();
  if (name == "evidence") {
    std::vector<std::string> lines;
    for (const Evidence& e : a.evidence()) lines.push_back(EvidenceLine(e));
    return absl::StrJoin(lines, "\n");
  }
  if (name == "alert") return AlertToJson(a);
  if (absl::StartsWith(ToAbsl(name), "labels.")) {
    auto it = a.labels().find(std::string(name.substr(7)));
    return it == a.labels().end() ? "" : it->second;
  }
  return "";
}

}  // namespace

std::string JsonBody(absl::Span<const Alert* const> alerts, bool as_array) {
  if (!as_array) return AlertToJson(*alerts.front());
  std::string out = "[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += AlertToJson(*alerts[i]);
  }
  out.push_back(']');
  return out;
}

std::string PagerDutyBody(const Alert& a, std::string_view routing_key) {
  JsonWriter w;
  w.BeginObject().Key("routing_key").String(routing_key);
  if (a.status() == "resolved") {
    w.Key("event_action").String("resolve").Key("dedup_key").String(a.fingerprint());
    return w.EndObject().str();
  }
  w.Key("event_action").String("trigger").Key("dedup_key").String(a.fingerprint());
  // PagerDuty severities: critical, error, warning, info.
  const std::string& sev = a.severity();
  const std::string severity =
      sev == "critical" || sev == "warning" || sev == "info" ? sev : std::string("error");
  w.Key("payload").BeginObject();
  w.Key("summary").String(Truncate(SummaryText(a), 1024));
  w.Key("source").String(a.host().empty() ? WhereText(a) : Printable(a.host()));
  w.Key("severity").String(severity);
  w.Key("timestamp").String(Rfc3339(a.last_event_time()));
  if (!a.app_pool().empty() || !a.service().empty()) {
    w.Key("component").String(Printable(a.app_pool().empty() ? a.service() : a.app_pool()));
  }
  w.Key("group").String(a.incident_id());
  w.Key("class").String(a.rule());
  w.Key("custom_details").BeginObject();
  w.Key("rule").String(a.rule());
  w.Key("count").Number(a.count());
  w.Key("window_seconds").Number(a.window_seconds());
  w.Key("first_event_time").String(Rfc3339(a.first_event_time()));
  w.Key("fingerprint").String(a.fingerprint());
  w.Key("incident_id").String(a.incident_id());
  w.Key("sequence").Number(a.sequence());
  w.Key("evidence").BeginArray();
  for (const std::string& line : EvidenceLines(a)) w.String(line);
  w.EndArray();
  if (!a.labels().empty()) {
    w.Key("labels").BeginObject();
    std::map<std::string, std::string> sorted(a.labels().begin(), a.labels().end());
    for (const auto& [k, v] : sorted) w.Key(k).String(v);
    w.EndObject();
  }
  w.EndObject();  // custom_details
  w.EndObject();  // payload
  w.Key("client").String("faultline");
  return w.EndObject().str();
}

std::string SlackBody(const Alert& a) {
  const bool resolved = a.status() == "resolved";
  const std::string icon =
      resolved ? ":white_check_mark:" : (a.severity() == "critical" ? ":red_circle:" : ":warning:");
  const std::string where = WhereText(a);
  JsonWriter w;
  w.BeginObject();
  // The fallback for notifications and clients without blocks.
  w.Key("text").String(absl::StrCat(resolved ? "[RESOLVED] " : "[FIRING] ", a.rule(), " on ",
                                    SlackEscape(where), ": ", SlackEscape(a.summary())));
  w.Key("blocks").BeginArray();
  w.BeginObject().Key("type").String("header").Key("text").BeginObject();
  w.Key("type").String("plain_text").Key("emoji").Bool(true);
  w.Key("text").String(Truncate(
      absl::StrCat(icon, " ", a.rule(), resolved ? " resolved" : " firing", ": ", where), 150));
  w.EndObject().EndObject();
  w.BeginObject().Key("type").String("section").Key("text").BeginObject();
  w.Key("type").String("mrkdwn").Key("text").String(Truncate(SlackEscape(a.summary()), 3000));
  w.EndObject().EndObject();
  w.BeginObject().Key("type").String("section").Key("fields").BeginArray();
  for (const Fact& f : AlertFacts(a)) {
    w.BeginObject().Key("type").String("mrkdwn");
    w.Key("text").String(absl::StrCat("*", f.label, "*\n", SlackEscape(f.value)));
    w.EndObject();
  }
  w.EndArray().EndObject();
  if (a.evidence_size() > 0) {
    w.BeginObject().Key("type").String("section").Key("text").BeginObject();
    w.Key("type").String("mrkdwn");
    w.Key("text").String(
        Truncate(absl::StrCat("*Evidence*\n```",
                              absl::StrJoin(EvidenceLines(a), "\n",
                                            [](std::string* out, const std::string& line) {
                                              out->append(SlackEscape(line));
                                            }),
                              "```"),
                 3000));
    w.EndObject().EndObject();
  }
  w.BeginObject().Key("type").String("context").Key("elements").BeginArray();
  w.BeginObject().Key("type").String("mrkdwn");
  w.Key("text").String(
      absl::StrCat("fingerprint `", a.fingerprint(), "` · incident `", a.incident_id(), "`"));
  w.EndObject().EndArray().EndObject();
  w.EndArray();
  return w.EndObject().str();
}

absl::StatusOr<BodyTemplate> BodyTemplate::Parse(std::string_view text, bool json_escape) {
  BodyTemplate t;
  t.json_escape_ = json_escape;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({false, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({false, std::string(text.substr(pos, open - pos))});
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("template: \"{{\" at offset ", open, " is never closed"));
    }
    const std::string name(StripWhitespace(text.substr(open + 2, close - open - 2)));
    bool known = absl::StartsWith(name, "labels.") && name.size() > 7;
    for (const char* f : kFieldNames) known = known || name == f;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "template: unknown placeholder {{", name, "}} (known: ",
          absl::StrJoin(std::begin(kFieldNames), std::end(kFieldNames), ", "), ", labels.NAME)"));
    }
    t.pieces_.push_back({true, name});
    pos = close + 2;
  }
  return t;
}

std::string BodyTemplate::Render(const Alert& alert) const {
  std::string out;
  for (const Piece& p : pieces_) {
    if (!p.field) {
      out += p.text;
    } else if (!json_escape_ || p.text == "alert") {
      out += FieldValue(alert, p.text);
    } else {
      AppendJsonEscaped(&out, FieldValue(alert, p.text));
    }
  }
  return out;
}

}  // namespace faultline

#include "sinks/opsgenie/opsgenie_sink.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/json_writer.h"
#include "core/printable.h"
#include "core/version.h"
#include "sinks/alert_text.h"

namespace faultline {
namespace {

const char* Priority(const Alert& a) {
  if (a.severity() == "critical") return "P1";
  if (a.severity() == "warning") return "P3";
  return "P5";
}

}  // namespace

OpsgenieRequest OpsgenieRequestFor(const Alert& a, const std::vector<std::string>& tags) {
  JsonWriter w;
  w.BeginObject();
  if (a.status() == "resolved") {
    w.Key("source").String("faultline");
    w.Key("user").String("faultline");
    w.Key("note").String(Truncate(absl::StrCat("Resolved: ", SummaryText(a)), 25000));
    // The fingerprint is hex: nothing in it needs escaping in a path.
    return {absl::StrCat("/v2/alerts/", a.fingerprint(), "/close?identifierType=alias"),
            w.EndObject().str()};
  }
  w.Key("message").String(Truncate(SummaryText(a), 130));  // Opsgenie's limit
  w.Key("alias").String(a.fingerprint());
  std::vector<std::string> description = {SummaryText(a), ""};
  for (std::string& line : EvidenceLines(a, 50)) description.push_back(std::move(line));
  w.Key("description").String(Truncate(absl::StrJoin(description, "\n"), 15000));
  w.Key("priority").String(Priority(a));
  w.Key("source").String("faultline");
  if (!a.host().empty()) w.Key("entity").String(Truncate(Printable(a.host()), 512));
  w.Key("tags").BeginArray();
  w.String(a.rule()).String(a.severity());
  for (const std::string& t : tags) w.String(Truncate(t, 50));
  w.EndArray();
  w.Key("details").BeginObject();
  auto detail = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) w.Key(key).String(Truncate(Printable(value), 8000));
  };
  detail("rule", a.rule());
  detail("host", a.host());
  detail("app_pool", a.app_pool());
  detail("service", a.service());
  detail("count", absl::StrCat(a.count()));
  detail("window_seconds", absl::StrCat(a.window_seconds()));
  detail("first_event_time", Rfc3339(a.first_event_time()));
  detail("last_event_time", Rfc3339(a.last_event_time()));
  detail("incident_id", a.incident_id());
  detail("idempotency_key", IdempotencyKey(a));
  // In name order (a protobuf map has none), so the same alert gives the same body.
  const std::map<std::string, std::string> labels(a.labels().begin(), a.labels().end());
  for (const auto& [name, value] : labels) detail(absl::StrCat("label.", name), value);
  w.EndObject();
  return {"/v2/alerts", w.EndObject().str()};
}

const settings::Schema<OpsgenieSink::Config>& OpsgenieSink::Config::Schema() {
  static const auto* schema =
      &(*new settings::Schema<Config>(
            "Opsgenie Alert API v2: created while firing, closed when resolved; alias = the "
            "fingerprint, priority from severity (critical P1, warning P3, else P5)."))
           .Secret("api_key", &Config::api_key,
                   "The API integration's key (Authorization: GenieKey ...).", /*required=*/true)
           .String("url", &Config::url, "The API: https://api.eu.opsgenie.com for EU accounts.")
           .StringList("tags", &Config::tags, "Added to every alert's tags (after rule, severity).")
           .Inline(&Config::http, HttpOptions::Schema())
           .Check(CheckHttpUrls("url", &Config::url));
  return *schema;
}

OpsgenieSink::OpsgenieSink(const Config& config, Clock& clock)
    : base_(config.url),
      peer_(UrlOrigin(config.url)),
      headers_({"Content-Type: application/json", absl::StrCat("User-Agent: faultline/", kVersion),
                absl::StrCat("Authorization: GenieKey ", config.api_key)}),
      tags_(config.tags),
      http_(clock, config.http) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

absl::StatusOr<std::unique_ptr<Sink>> OpsgenieSink::Create(const Config& config,
                                                           const SinkContext& ctx) {
  return std::unique_ptr<Sink>(new OpsgenieSink(config, *ctx.clock));
}

absl::Status OpsgenieSink::Deliver(absl::Span<const Alert* const> alerts) {
  const OpsgenieRequest request = OpsgenieRequestFor(*alerts.front(), tags_);
  return DeliveryStatus(http_.Post(base_ + request.path, request.body, headers_), peer_);
}

}  // namespace faultline

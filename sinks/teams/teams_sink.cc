#include "sinks/teams/teams_sink.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/json_writer.h"
#include "core/version.h"
#include "sinks/alert_text.h"

namespace faultline {

std::string TeamsBody(const Alert& a) {
  const bool resolved = a.status() == "resolved";
  const char* color = resolved ? "Good" : a.severity() == "critical" ? "Attention" : "Warning";
  JsonWriter w;
  w.BeginObject().Key("type").String("message").Key("attachments").BeginArray();
  w.BeginObject().Key("contentType").String("application/vnd.microsoft.card.adaptive");
  w.Key("content").BeginObject();
  w.Key("$schema").String("http://adaptivecards.io/schemas/adaptive-card.json");
  w.Key("type").String("AdaptiveCard").Key("version").String("1.4");
  w.Key("msteams").BeginObject().Key("width").String("Full").EndObject();
  w.Key("body").BeginArray();
  w.BeginObject().Key("type").String("TextBlock").Key("size").String("Large");
  w.Key("weight").String("Bolder").Key("color").String(color).Key("wrap").Bool(true);
  w.Key("text").String(
      Truncate(absl::StrCat(resolved ? "Resolved: " : "", a.rule(), " on ", WhereText(a)), 200));
  w.EndObject();
  w.BeginObject().Key("type").String("TextBlock").Key("wrap").Bool(true);
  w.Key("text").String(Truncate(SummaryText(a), 2000)).EndObject();
  w.BeginObject().Key("type").String("FactSet").Key("facts").BeginArray();
  for (const Fact& f : AlertFacts(a)) {
    w.BeginObject().Key("title").String(f.label).Key("value").String(f.value).EndObject();
  }
  w.EndArray().EndObject();
  const std::vector<std::string> evidence = EvidenceLines(a);
  if (!evidence.empty()) {
    w.BeginObject().Key("type").String("TextBlock").Key("weight").String("Bolder");
    w.Key("text").String("Evidence").EndObject();
    for (const std::string& line : evidence) {
      w.BeginObject().Key("type").String("TextBlock").Key("fontType").String("Monospace");
      w.Key("size").String("Small").Key("wrap").Bool(true);
      w.Key("text").String(Truncate(line, 500)).EndObject();
    }
  }
  w.BeginObject().Key("type").String("TextBlock").Key("isSubtle").Bool(true);
  w.Key("size").String("Small").Key("wrap").Bool(true);
  w.Key("text").String(absl::StrCat("fingerprint ", a.fingerprint(), " · incident ",
                                    a.incident_id(), " · ", IdempotencyKey(a)));
  w.EndObject();
  w.EndArray();   // body
  w.EndObject();  // content
  w.EndObject().EndArray();
  return w.EndObject().str();
}

const settings::Schema<TeamsSink::Config>& TeamsSink::Config::Schema() {
  static const auto* schema =
      &(*new settings::Schema<Config>(
            "Microsoft Teams: an Adaptive Card per notification to an incoming webhook or a "
            "Workflows (Power Automate) webhook; a resolution is a new card."))
           .Secret("url", &Config::url,
                   "The webhook URL (a credential: prefer url_file or url_env).",
                   /*required=*/true)
           .Inline(&Config::http, HttpOptions::Schema())
           .Check(CheckHttpUrls("url", &Config::url));
  return *schema;
}

absl::StatusOr<std::unique_ptr<Sink>> TeamsSink::Create(const Config& config,
                                                        const SinkContext& ctx) {
  return std::unique_ptr<Sink>(new TeamsSink(config, *ctx.clock));
}

absl::Status TeamsSink::Deliver(absl::Span<const Alert* const> alerts) {
  const Alert& alert = *alerts.front();
  return DeliveryStatus(http_.Post(url_, TeamsBody(alert),
                                   {"Content-Type: application/json",
                                    absl::StrCat("User-Agent: faultline/", kVersion),
                                    absl::StrCat("Idempotency-Key: ", IdempotencyKey(alert))}),
                        peer_);
}

}  // namespace faultline

#include "sinks/alertmanager/alertmanager_sink.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/version.h"
#include "sinks/alert_text.h"

namespace faultline {
namespace {

std::string ApiTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

std::string AlertmanagerBody(absl::Span<const Alert* const> alerts, absl::Time now,
                             absl::Duration valid_for, std::string_view generator_url) {
  JsonWriter w;
  w.BeginArray();
  for (const Alert* a : alerts) {
    w.BeginObject().Key("labels").BeginObject();
    // Sorted, so the same alert always reads the same.
    std::map<std::string, std::string> labels(a->labels().begin(), a->labels().end());
    labels["alertname"] = a->rule();
    labels["severity"] = a->severity();
    if (!a->host().empty()) labels["host"] = a->host();
    if (!a->app_pool().empty()) labels["app_pool"] = a->app_pool();
    if (!a->service().empty()) labels["service"] = a->service();
    for (const auto& [k, v] : labels) w.Key(k).String(v);
    w.EndObject();
    std::vector<std::string> lines;
    for (const Evidence& e : a->evidence()) lines.push_back(EvidenceLine(e));
    w.Key("annotations").BeginObject();
    w.Key("summary").String(SummaryText(*a));
    w.Key("description").String(absl::StrJoin(lines, "\n"));
    w.Key("fingerprint").String(a->fingerprint());
    w.Key("incident_id").String(a->incident_id());
    w.Key("count").String(absl::StrCat(a->count()));
    w.EndObject();
    const absl::Time starts = FromProtoTime(a->first_event_time());
    const absl::Time ends =
        a->status() == "resolved" ? std::max(now, starts) : std::max(now, starts) + valid_for;
    w.Key("startsAt").String(ApiTime(starts));
    w.Key("endsAt").String(ApiTime(ends));
    if (!generator_url.empty()) w.Key("generatorURL").String(generator_url);
    w.EndObject();
  }
  return w.EndArray().str();
}

const settings::Schema<AlertmanagerSink::Config>& AlertmanagerSink::Config::Schema() {
  using settings::Bound;
  static const auto* schema =
      &(*new settings::Schema<Config>(
            "Prometheus Alertmanager (API v2): firing alerts re-sent every resend_interval, "
            "resolved ones with their end time."))
           .StringList("url", &Config::urls,
                       "One Alertmanager URL or a list (each of a cluster gets every alert).",
                       /*min_items=*/1)
           .StringMap("headers", &Config::headers, "Extra HTTP headers (e.g. Authorization).")
           .Duration("resend_interval", &Config::resend_interval, Bound::kPositive,
                     "How often firing alerts are sent again (Alertmanager forgets them after "
                     "its resolve_timeout).")
           .Duration("resend_for", &Config::resend_for, Bound::kPositive,
                     "How long a firing alert is re-sent without news before it is dropped.")
           .Integer("batch_size", &Config::batch_size, 1, 10000, "Alerts per request.")
           .String("generator_url", &Config::generator_url,
                   "Shown by Alertmanager as the alert's source link.")
           .Inline(&Config::http, HttpOptions::Schema())
           .Check([](const Config&, settings::Checker& check) {
             if (!check.has("url")) check.Error("url", "required: one Alertmanager URL or a list");
           })
           .Check(CheckHttpUrls("url", &Config::urls));
  return *schema;
}

absl::StatusOr<std::unique_ptr<Sink>> AlertmanagerSink::Create(const Config& config,
                                                               const SinkContext& ctx) {
  std::vector<std::string> urls = config.urls;
  for (std::string& url : urls) {
    while (!url.empty() && url.back() == '/') url.pop_back();
  }
  std::vector<std::string> headers;
  for (const auto& [name, value] : config.headers) {
    headers.push_back(absl::StrCat(name, ": ", value));
  }
  return std::unique_ptr<Sink>(new AlertmanagerSink(
      urls, std::move(headers), config.resend_interval, config.resend_for,
      static_cast<size_t>(config.batch_size), config.generator_url, config.http, *ctx.clock));
}

AlertmanagerSink::AlertmanagerSink(const std::vector<std::string>& urls,
                                   std::vector<std::string> headers, absl::Duration resend_interval,
                                   absl::Duration resend_for, size_t batch_size,
                                   std::string generator_url, const HttpOptions& http, Clock& clock)
    : headers_(std::move(headers)),
      resend_interval_(resend_interval),
      resend_for_(resend_for),
      batch_size_(batch_size),
      generator_url_(std::move(generator_url)),
      clock_(clock) {
  headers_.insert(headers_.begin(), {"Content-Type: application/json",
                                     absl::StrCat("User-Agent: faultline/", kVersion)});
  for (const std::string& url : urls) {
    urls_.push_back(url + "/api/v2/alerts");
    peers_.push_back(UrlOrigin(url));
    http_.push_back(std::make_unique<HttpClient>(clock, http));
  }
}

absl::Status AlertmanagerSink::Post(absl::Span<const Alert* const> alerts, absl::Time now) {
  const std::string body = AlertmanagerBody(alerts, now, 4 * resend_interval_, generator_url_);
  absl::Status first_error;
  bool delivered = false, retryable = false;
  for (size_t i = 0; i < urls_.size(); ++i) {
    const absl::Status s = DeliveryStatus(http_[i]->Post(urls_[i], body, headers_), peers_[i]);
    if (s.ok()) {
      delivered = true;
      continue;
    }
    retryable = retryable || IsRetryable(s);
    if (first_error.ok()) first_error = s;
  }
  if (delivered) return absl::OkStatus();
  // Refused for good only if every Alertmanager refused it for good.
  if (retryable && !IsRetryable(first_error)) return absl::UnavailableError(first_error.message());
  return first_error;
}

absl::Status AlertmanagerSink::Deliver(absl::Span<const Alert* const> alerts) {
  const absl::Time now = clock_.TimeNow();
  if (absl::Status s = Post(alerts, now); !s.ok()) {
    if (!IsRetryable(s)) {
      // Refused for good: never resend these (a refused resolution must not leave its alert
      // firing here forever).
      for (const Alert* a : alerts) active_.erase(a->fingerprint());
    }
    return s;
  }
  for (const Alert* a : alerts) {
    if (a->status() == "resolved") {
      active_.erase(a->fingerprint());
    } else {
      active_[a->fingerprint()] = {*a, now};
    }
  }
  if (next_resend_ == absl::InfinitePast()) next_resend_ = now + resend_interval_;
  return absl::OkStatus();
}

void AlertmanagerSink::Tick(absl::Time now) {
  if (active_.empty() || now < next_resend_) return;
  next_resend_ = now + resend_interval_;
  std::erase_if(active_, [&](const auto& entry) {
    if (now - entry.second.delivered < resend_for_) return false;
    LogWarning(absl::StrCat("alertmanager: ", entry.second.alert.rule(), " ", entry.first,
                            " firing for ", absl::FormatDuration(resend_for_),
                            " without an update; no longer resent (Alertmanager resolves it)"));
    return true;
  });
  std::vector<const Alert*> batch;
  for (auto it = active_.begin(); it != active_.end();) {
    batch.clear();
    for (; it != active_.end() && batch.size() < batch_size_; ++it) {
      batch.push_back(&it->second.alert);
    }
    if (absl::Status s = Post(batch, now); !s.ok()) {
      // Not retried: the next interval sends them again, and endsAt covers four intervals.
      if (resend_failures_++ % 10 == 0) {
        LogWarning(absl::StrCat("alertmanager: resending firing alerts failed: ", s.message()));
      }
      return;
    }
  }
}

}  // namespace faultline

// Posts alerts to Prometheus Alertmanager's API v2 (`POST <url>/api/v2/alerts`), as Prometheus
// does: to every configured Alertmanager (a batch counts as delivered once one of them took it;
// the members of an Alertmanager cluster share alerts), and every `resend_interval` it sends each
// firing alert again with endsAt moved forward, so Alertmanager keeps it active while the
// incident lasts and resolves it by itself if faultline stops (after 4 resend intervals). A
// firing alert not updated for `resend_for` (24h) is no longer resent: its resolution went
// missing (dropped by on_full: drop, or its key evicted from detector state).
//
// Labels (an alert's identity in Alertmanager): alertname = the rule, severity, host, app_pool,
// service (those the alert has), and detect.labels. Annotations: summary, description (the
// evidence, a line each), fingerprint, incident_id, count.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sinks/http/http_client.h"
#include "sinks/registry.h"

namespace faultline {

// The API v2 body (an array of postable alerts) for `alerts` at wall time `now`. startsAt is the
// first event; endsAt is `now + valid_for` while firing, and `now` (not before startsAt) once
// resolved.
std::string AlertmanagerBody(absl::Span<const Alert* const> alerts, absl::Time now,
                             absl::Duration valid_for, std::string_view generator_url);

class AlertmanagerSink final : public Sink {
 public:
  struct Config {
    std::vector<std::string> urls;
    std::map<std::string, std::string> headers;
    absl::Duration resend_interval = absl::Minutes(1);
    absl::Duration resend_for = absl::Hours(24);
    int batch_size = 64;
    std::string generator_url;
    HttpOptions http;
    static const settings::Schema<Config>& Schema();
  };
  static absl::StatusOr<std::unique_ptr<Sink>> Create(const Config& config, const SinkContext& ctx);

  absl::Status Deliver(absl::Span<const Alert* const> alerts) override;
  size_t max_batch() const override { return batch_size_; }
  void Tick(absl::Time now) override;

  size_t active() const { return active_.size(); }

 private:
  AlertmanagerSink(const std::vector<std::string>& urls, std::vector<std::string> headers,
                   absl::Duration resend_interval, absl::Duration resend_for, size_t batch_size,
                   std::string generator_url, const HttpOptions& http, Clock& clock);
  // Posts to every Alertmanager; OK if one took it.
  absl::Status Post(absl::Span<const Alert* const> alerts, absl::Time now);

  std::vector<std::string> urls_;  // .../api/v2/alerts
  std::vector<std::string> peers_;
  std::vector<std::string> headers_;
  absl::Duration resend_interval_;
  absl::Duration resend_for_;
  size_t batch_size_;
  std::string generator_url_;
  Clock& clock_;
  std::vector<std::unique_ptr<HttpClient>> http_;  // one per Alertmanager: its own connection
  // Firing alerts by fingerprint: the latest notification (what the periodic resend sends) and
  // when it was delivered.
  struct Active {
    Alert alert;
    absl::Time delivered;
  };
  std::map<std::string, Active> active_;
  absl::Time next_resend_ = absl::InfinitePast();
  uint64_t resend_failures_ = 0;
};

}  // namespace faultline

// Microsoft Teams: an Adaptive Card per notification, POSTed to a Teams incoming webhook or a
// Power Automate "When a Teams webhook request is received" workflow (the successor of the
// retired Office 365 connectors). Both take the same message: {"type": "message",
// "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": CARD}]}.
// The card: the summary as its title (red for critical, amber for warning, green when
// resolved), host, pool, service, count and window as facts, the evidence with decoded exit
// codes, and the fingerprint and incident id to find the other notifications of the incident.
// A resolution is a new card (a webhook cannot edit the one it posted).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sinks/http/http_client.h"
#include "sinks/registry.h"

namespace faultline {

// The message body for one alert: pure, golden-tested (teams/testdata/).
std::string TeamsBody(const Alert& alert);

class TeamsSink final : public Sink {
 public:
  struct Config {
    std::string url;  // a credential: the URL is the key
    HttpOptions http;
    static const settings::Schema<Config>& Schema();
  };
  static absl::StatusOr<std::unique_ptr<Sink>> Create(const Config& config, const SinkContext& ctx);

  absl::Status Deliver(absl::Span<const Alert* const> alerts) override;

 private:
  TeamsSink(const Config& config, Clock& clock)
      : url_(config.url), peer_(UrlOrigin(config.url)), http_(clock, config.http) {}

  std::string url_;
  std::string peer_;
  HttpClient http_;
};

}  // namespace faultline

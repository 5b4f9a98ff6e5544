// Opsgenie (Alert API v2): an alert is created while firing and closed when resolved, keyed by
// `alias` = the incident's fingerprint, so Opsgenie's own de-duplication folds the updates of one
// incident into one alert (its count goes up) and the close finds it. Priority from severity:
// critical P1, warning P3, anything else P5. Authorization: GenieKey API_KEY. EU accounts use
// url: https://api.eu.opsgenie.com.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sinks/http/http_client.h"
#include "sinks/registry.h"

namespace faultline {

// What Deliver sends for one alert: pure, golden-tested (opsgenie/testdata/).
struct OpsgenieRequest {
  std::string path;  // /v2/alerts, or /v2/alerts/ALIAS/close?identifierType=alias
  std::string body;
};
OpsgenieRequest OpsgenieRequestFor(const Alert& alert, const std::vector<std::string>& tags);

class OpsgenieSink final : public Sink {
 public:
  struct Config {
    std::string api_key;
    std::string url = "https://api.opsgenie.com";
    std::vector<std::string> tags;
    HttpOptions http;
    static const settings::Schema<Config>& Schema();
  };
  static absl::StatusOr<std::unique_ptr<Sink>> Create(const Config& config, const SinkContext& ctx);

  absl::Status Deliver(absl::Span<const Alert* const> alerts) override;

 private:
  OpsgenieSink(const Config& config, Clock& clock);

  std::string base_;  // the URL without a trailing slash
  std::string peer_;
  std::vector<std::string> headers_;
  std::vector<std::string> tags_;
  HttpClient http_;
};

}  // namespace faultline

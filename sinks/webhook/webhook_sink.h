// Delivers alerts by HTTP POST (libcurl, connections kept alive): `type: webhook` with a body
// format of choice (json, template, pagerduty, slack: formats.h), and `type: pagerduty` /
// `type: slack`, the same transport with that format preset.
//
// Every request carries `Idempotency-Key: <fingerprint>-<status>-<sequence>` (a batch: one key
// derived from its alerts' keys), so a receiver can drop a redelivery, and with a `secret`,
// `X-Faultline-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. Responses: 2xx delivered;
// connection errors, timeouts, 408, 429 and 5xx retried by the dispatcher (honouring
// Retry-After); other statuses refused for good (counted, logged once per message).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sinks/http/http_client.h"
#include "sinks/registry.h"
#include "sinks/webhook/formats.h"

namespace faultline {

class WebhookSink final : public Sink {
 public:
  enum class Format { kJson, kTemplate, kPagerDuty, kSlack };

  // One struct for the three types; each type's schema has the keys that apply to it.
  struct Config {
    Format format = Format::kJson;
    std::string url;
    std::string secret;  // HMAC-SHA256 signature key
    std::map<std::string, std::string> headers;
    std::string routing_key;                        // PagerDuty
    int batch_size = 1;                             // format json
    std::string content_type = "application/json";  // format template
    std::string template_text;
    std::string template_file;
    HttpOptions http;
    // type: webhook (any format), type: pagerduty, type: slack.
    static const settings::Schema<Config>& WebhookSchema();
    static const settings::Schema<Config>& PagerDutySchema();
    static const settings::Schema<Config>& SlackSchema();
  };
  static absl::StatusOr<std::unique_ptr<Sink>> Create(const Config& config, const SinkContext& ctx);
  // The pagerduty and slack types: Create with their format.
  static absl::StatusOr<std::unique_ptr<Sink>> CreatePagerDuty(const Config& config,
                                                               const SinkContext& ctx);
  static absl::StatusOr<std::unique_ptr<Sink>> CreateSlack(const Config& config,
                                                           const SinkContext& ctx);

  absl::Status Deliver(absl::Span<const Alert* const> alerts) override;
  size_t max_batch() const override { return settings_.batch_size; }

  // The body and headers Deliver() would send (tests, and `faultline check-config` one day).
  std::string Body(absl::Span<const Alert* const> alerts) const;
  std::vector<std::string> Headers(absl::Span<const Alert* const> alerts,
                                   const std::string& body) const;

 private:
  struct Settings {
    Format format = Format::kJson;
    std::string url;
    std::string peer;  // the URL without credentials or query, for messages
    std::string content_type = "application/json";
    std::vector<std::string> headers;
    std::string secret;
    std::string routing_key;
    std::optional<BodyTemplate> body_template;
    size_t batch_size = 1;
    HttpOptions http;
  };
  WebhookSink(Settings settings, Clock& clock)
      : settings_(std::move(settings)), http_(clock, settings_.http) {}

  Settings settings_;
  HttpClient http_;
};

// Lowercase hex HMAC-SHA256 of `data` under `key`.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace faultline

#include "sinks/webhook/webhook_sink.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "core/alert.h"
#include "core/version.h"
#include "sinks/alert_text.h"

namespace faultline {
namespace {

constexpr char kPagerDutyUrl[] = "https://events.pagerduty.com/v2/enqueue";

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) absl::StrAppendFormat(&hex, "%02x", digest[i]);
  return hex;
}

namespace {

using Config = WebhookSink::Config;

// What the three types share: the signature secret, headers and the HTTP client's settings.
settings::Schema<Config>& Common(settings::Schema<Config>& schema) {
  return schema
      .Secret("secret", &Config::secret,
              "Signs each body: X-Faultline-Signature: sha256=HMAC-SHA256(secret, "
              "timestamp.body), with X-Faultline-Timestamp.")
      .StringMap("headers", &Config::headers, "Extra HTTP headers (e.g. Authorization).")
      .Inline(&Config::http, HttpOptions::Schema());
}

}  // namespace

const settings::Schema<Config>& Config::WebhookSchema() {
  static auto* schema = [] {
    auto* s = new settings::Schema<Config>(
        "Alerts POSTed to any HTTP endpoint: the alert JSON, a body template, or the "
        "PagerDuty and Slack formats.");
    s->Choice("format", &Config::format,
              std::vector<std::pair<std::string, Format>>{{"json", Format::kJson},
                                                          {"template", Format::kTemplate},
                                                          {"pagerduty", Format::kPagerDuty},
                                                          {"slack", Format::kSlack}},
              "The body: the alert JSON, your template, PagerDuty Events v2 or Slack.")
        .Secret("url", &Config::url,
                "The endpoint (required, except with format pagerduty: the Events API). A "
                "credential for Slack and many others: prefer url_file or url_env.")
        .Integer("batch_size", &Config::batch_size, 1, 1000,
                 "format json: alerts per request; more than 1 sends a JSON array.")
        .String("content_type", &Config::content_type, "format template: the Content-Type.")
        .String("template", &Config::template_text,
                "format template: the body, with {{field}} placeholders (JSON-escaped when the "
                "content type is JSON).")
        .String("template_file", &Config::template_file, "format template: the body from a file.")
        .Secret("routing_key", &Config::routing_key, "format pagerduty: the integration key.");
    Common(*s).Check(CheckHttpUrls("url", &Config::url));
    s->Check([](const Config& c, settings::Checker& check) {
      const bool has_url = check.has("url") || check.has("url_file") || check.has("url_env");
      if (c.format != Format::kPagerDuty && !has_url) {
        check.Error("url", "required (or url_file / url_env)");
      }
      if (c.format == Format::kTemplate && check.has("template") == check.has("template_file")) {
        check.Error("template", "format template needs exactly one of template and template_file");
      } else if (c.format == Format::kTemplate && check.has("template")) {
        const bool json = absl::StrContains(c.content_type, "json");
        if (absl::StatusOr<BodyTemplate> t = BodyTemplate::Parse(c.template_text, json); !t.ok()) {
          check.Error("template",
                      std::string(absl::StripPrefix(t.status().message(), "template: ")));
        }
      }
      if (c.format != Format::kTemplate) {
        for (const char* key : {"template", "template_file", "content_type"}) {
          if (check.has(key)) check.Error(key, "applies only to format: template");
        }
      }
      if (c.format != Format::kJson && check.has("batch_size")) {
        check.Error("batch_size", "applies only to format: json");
      }
      const bool has_key =
          check.has("routing_key") || check.has("routing_key_file") || check.has("routing_key_env");
      if (c.format == Format::kPagerDuty && !has_key) {
        check.Error("routing_key", "required with format: pagerduty (or routing_key_file / _env)");
      }
      if (c.format != Format::kPagerDuty && has_key) {
        check.Error("routing_key", "applies only to format: pagerduty");
      }
    });
    return s;
  }();
  return *schema;
}

const settings::Schema<Config>& Config::PagerDutySchema() {
  static auto* schema = [] {
    auto* s = new settings::Schema<Config>(
        "PagerDuty Events API v2: trigger while firing, resolve when resolved, dedup_key = "
        "the fingerprint.");
    s->Secret("routing_key", &Config::routing_key, "The integration (routing) key.",
              /*required=*/true)
        .Secret("url", &Config::url,
                "The Events API endpoint. Default: https://events.pagerduty.com/v2/enqueue.");
    Common(*s).Check(CheckHttpUrls("url", &Config::url));
    return s;
  }();
  return *schema;
}

const settings::Schema<Config>& Config::SlackSchema() {
  static auto* schema = [] {
    auto* s = new settings::Schema<Config>(
        "A Slack incoming webhook: one message per alert, the resolution as a new message.");
    s->Secret("url", &Config::url, "The incoming-webhook URL (a credential).",
              /*required=*/true);
    Common(*s).Check(CheckHttpUrls("url", &Config::url));
    return s;
  }();
  return *schema;
}

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::CreatePagerDuty(const Config& config,
                                                                   const SinkContext& ctx) {
  Config c = config;
  c.format = Format::kPagerDuty;
  return Create(c, ctx);
}

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::CreateSlack(const Config& config,
                                                               const SinkContext& ctx) {
  Config c = config;
  c.format = Format::kSlack;
  return Create(c, ctx);
}

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::Create(const Config& config,
                                                          const SinkContext& ctx) {
  Settings s;
  s.format = config.format;
  s.url = config.url.empty() && config.format == Format::kPagerDuty ? kPagerDutyUrl : config.url;
  s.peer = UrlOrigin(s.url);
  s.http = config.http;
  s.secret = config.secret;
  for (const auto& [name, value] : config.headers) {
    s.headers.push_back(absl::StrCat(name, ": ", value));
  }
  s.routing_key = config.routing_key;
  s.batch_size = static_cast<size_t>(config.batch_size);
  s.content_type = config.content_type;
  if (config.format == Format::kTemplate) {
    std::string text = config.template_text;
    const char* key = "template";
    if (!config.template_file.empty()) {
      key = "template_file";
      std::ifstream in(config.template_file, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      if (!in) {
        return absl::InvalidArgumentError(
            absl::StrCat("template_file: cannot read ", config.template_file));
      }
      text = buffer.str();
    }
    const bool json = absl::StrContains(s.content_type, "json");
    absl::StatusOr<BodyTemplate> t = BodyTemplate::Parse(text, json);
    if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat(key, ": ", t.status().message()));
    s.body_template = std::move(*t);
  }
  return std::unique_ptr<Sink>(new WebhookSink(std::move(s), *ctx.clock));
}

std::string WebhookSink::Body(absl::Span<const Alert* const> alerts) const {
  switch (settings_.format) {
    case Format::kJson:
      return JsonBody(alerts, /*as_array=*/settings_.batch_size > 1);
    case Format::kTemplate:
      return settings_.body_template->Render(*alerts.front());
    case Format::kPagerDuty:
      return PagerDutyBody(*alerts.front(), settings_.routing_key);
    case Format::kSlack:
      return SlackBody(*alerts.front());
  }
  return "";
}

std::vector<std::string> WebhookSink::Headers(absl::Span<const Alert* const> alerts,
                                              const std::string& body) const {
  std::string key = IdempotencyKey(*alerts.front());
  if (alerts.size() > 1) {
    // One key per batch, the same whenever the same alerts are batched again.
    std::string all;
    for (const Alert* a : alerts) absl::StrAppend(&all, IdempotencyKey(*a), ",");
    key = absl::StrCat("batch-", StableId({all}));
  }
  std::vector<std::string> headers = {
      absl::StrCat("Content-Type: ", settings_.content_type),
      absl::StrCat("User-Agent: faultline/", kVersion),
      absl::StrCat("Idempotency-Key: ", key),
  };
  if (!settings_.secret.empty()) {
    headers.push_back(
        absl::StrCat("X-Faultline-Signature-256: sha256=", HmacSha256Hex(settings_.secret, body)));
  }
  headers.insert(headers.end(), settings_.headers.begin(), settings_.headers.end());
  return headers;
}

absl::Status WebhookSink::Deliver(absl::Span<const Alert* const> alerts) {
  const std::string body = Body(alerts);
  return DeliveryStatus(http_.Post(settings_.url, body, Headers(alerts, body)), settings_.peer);
}

}  // namespace faultline

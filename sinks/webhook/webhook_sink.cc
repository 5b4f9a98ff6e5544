#include "sinks/webhook/webhook_sink.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::CreateWebhook(SinkOptions& options,
                                                                 const SinkContext& ctx) {
  const std::string format =
      options.Choice("format", "json", {"json", "template", "pagerduty", "slack"});
  const Format f = format == "template"    ? Format::kTemplate
                   : format == "pagerduty" ? Format::kPagerDuty
                   : format == "slack"     ? Format::kSlack
                                           : Format::kJson;
  return Create(f, options, ctx);
}

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::CreatePagerDuty(SinkOptions& options,
                                                                   const SinkContext& ctx) {
  return Create(Format::kPagerDuty, options, ctx);
}

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::CreateSlack(SinkOptions& options,
                                                               const SinkContext& ctx) {
  return Create(Format::kSlack, options, ctx);
}

absl::StatusOr<std::unique_ptr<Sink>> WebhookSink::Create(Format format, SinkOptions& options,
                                                          const SinkContext& ctx) {
  Settings s;
  s.format = format;
  // A Slack or PagerDuty URL is a credential: it may come from a file or the environment.
  s.url = options.Secret("url", /*required=*/format != Format::kPagerDuty);
  if (s.url.empty() && format == Format::kPagerDuty) s.url = kPagerDutyUrl;
  if (!s.url.empty()) {
    if (absl::Status v = ValidateHttpUrl(s.url); !v.ok()) options.Error("url", v.message());
  }
  s.peer = UrlOrigin(s.url);
  s.http = ReadHttpOptions(options);
  s.secret = options.Secret("secret", /*required=*/false);
  for (const auto& [name, value] : options.Map("headers")) {
    s.headers.push_back(absl::StrCat(name, ": ", value));
  }
  if (format == Format::kPagerDuty) {
    s.routing_key = options.Secret("routing_key", /*required=*/true);
  }
  if (format == Format::kJson) {
    s.batch_size = static_cast<size_t>(options.Integer("batch_size", 1, 1, 1000));
  }
  if (format == Format::kTemplate) {
    s.content_type = options.String("content_type", s.content_type);
    const bool from_file = options.has("template_file");
    const std::string text =
        from_file ? options.FileText("template_file") : options.String("template");
    if (options.has("template") == from_file) {
      options.Error("template", "give exactly one of template and template_file");
    } else if (!text.empty()) {
      const bool json = s.content_type.find("json") != std::string::npos;
      absl::StatusOr<BodyTemplate> t = BodyTemplate::Parse(text, json);
      if (!t.ok()) {
        options.Error(from_file ? "template_file" : "template", t.status().message());
      } else {
        s.body_template = std::move(*t);
      }
    }
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

// The HTTP transport of the webhook and Alertmanager sinks: libcurl with one easy handle per
// client, so connections are kept alive between deliveries. Used by one sink worker thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/settings.h"

namespace faultline {

struct HttpResponse {
  long status = 0;   // NOLINT(google-runtime-int): what CURLINFO_RESPONSE_CODE writes
  std::string body;  // the first 4 KiB, for error messages
  std::optional<absl::Duration> retry_after;
};

struct HttpOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration timeout = absl::Seconds(10);  // the whole exchange
  std::string ca_file;  // PEM bundle to verify the peer with; empty: the system's

  // timeout, connect_timeout, ca_file: inlined into every HTTP sink's schema.
  static const settings::Schema<HttpOptions>& Schema();
};

class HttpClient {
 public:
  HttpClient(Clock& clock, HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` with `headers` ("Name: value"). An HTTP response of any status is a response;
  // errors are transport failures: kDeadlineExceeded (timeout), kUnavailable (refused, reset,
  // DNS, TLS), kInvalidArgument (a URL libcurl cannot use). Messages never contain the URL.
  absl::StatusOr<HttpResponse> Post(const std::string& url, const std::string& body,
                                    const std::vector<std::string>& headers);

 private:
  Clock& clock_;
  HttpOptions options_;
  void* curl_;  // CURL*
};

// What a POST's outcome means for the dispatcher: 2xx OK; 408, 429 and 5xx retryable
// (kUnavailable, carrying the Retry-After); any other status refused for good
// (kFailedPrecondition): "HTTP 404 from <peer>: <body>"; a transport failure keeps its code:
// "POST <peer>: <libcurl's words>". `peer` is what messages name (UrlOrigin: never a path).
absl::Status DeliveryStatus(const absl::StatusOr<HttpResponse>& response, std::string_view peer);

// Retry-After as delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"),
// relative to `now`; nullopt when unreadable.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now);

// Checks that `url` is an absolute http:// or https:// URL libcurl accepts.
absl::Status ValidateHttpUrl(const std::string& url);

// A schema check (Schema::Check) of the HTTP sinks: when the URL setting `key` (a string or a
// list of them; for a secret also KEY_file or KEY_env) is given, it holds http(s) URLs, each
// problem reported at `key` without the URL's path or query. An empty URL given is refused: it
// would fail every delivery for good. An absent one is left to the sink's default or to the rule
// that requires it, a KEY_file or KEY_env that could not be read to the reader's problem.
template <typename Config, typename Urls>
std::function<void(const Config&, settings::Checker&)> CheckHttpUrls(std::string key,
                                                                     Urls Config::*urls) {
  return [key = std::move(key), urls](const Config& c, settings::Checker& check) {
    if (!check.has(key) && !check.has(key + "_file") && !check.has(key + "_env")) return;
    auto one = [&](const std::string& url) {
      if (absl::Status v = ValidateHttpUrl(url); !v.ok()) {
        check.Error(key, std::string(v.message()));
      }
    };
    if constexpr (std::is_same_v<Urls, std::string>) {
      one(c.*urls);
    } else {
      for (const std::string& url : c.*urls) one(url);
    }
  };
}

// "https://hooks.slack.com:443" of a URL: what log lines and errors name, never the path, query
// or credentials (a Slack or PagerDuty URL carries its secret there).
std::string UrlOrigin(const std::string& url);

}  // namespace faultline

#include "sinks/http/http_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/settings.h"
#include "core/strings.h"
#include "sinks/sink.h"

namespace faultline {
namespace {

constexpr size_t kBodyLimit = 4096;

struct Exchange {
  HttpResponse response;
  std::string retry_after;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const size_t n = size * count;
  if (x->response.body.size() < kBodyLimit) {
    x->response.body.append(data, std::min(n, kBodyLimit - x->response.body.size()));
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && EqualsIgnoreCase(line.substr(0, kName.size()), kName)) {
    x->retry_after = std::string(StripWhitespace(line.substr(kName.size())));
  }
  return n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

const settings::Schema<HttpOptions>& HttpOptions::Schema() {
  static const auto* schema =
      &(*new settings::Schema<HttpOptions>("HTTP client settings"))
           .Duration("timeout", &HttpOptions::timeout, settings::Bound::kPositive,
                     "The whole exchange with the peer, connection included.")
           .Duration("connect_timeout", &HttpOptions::connect_timeout, settings::Bound::kPositive,
                     "Connecting (TCP and TLS).")
           .String("ca_file", &HttpOptions::ca_file,
                   "A PEM bundle to verify the peer with; empty: the system's.")
           .Check([](const HttpOptions& h, settings::Checker& c) {
             if (!h.ca_file.empty() && ::access(h.ca_file.c_str(), R_OK) != 0) {
               c.Error("ca_file", absl::StrCat("cannot read ", h.ca_file));
             }
           });
  return *schema;
}

HttpClient::HttpClient(Clock& clock, HttpOptions options)
    : clock_(clock), options_(std::move(options)) {
  GlobalInit();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

absl::StatusOr<HttpResponse> HttpClient::Post(const std::string& url, const std::string& body,
                                              const std::vector<std::string>& headers) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return absl::InternalError("libcurl: cannot create a handle");
  // Options are set on every request: the same handle (and its open connections) is reused.
  curl_easy_reset(curl);
  Exchange x;
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are threaded
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
  char detail[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    // libcurl's own words, never the URL: its path or query may hold a secret.
    const std::string what = detail[0] != '\0' ? std::string(detail) : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(what);
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return absl::InvalidArgumentError(what);
    }
    return absl::UnavailableError(what);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.response.status);
  if (!x.retry_after.empty()) {
    x.response.retry_after = ParseRetryAfter(x.retry_after, clock_.TimeNow());
  }
  return std::move(x.response);
}

absl::Status DeliveryStatus(const absl::StatusOr<HttpResponse>& outcome, std::string_view peer) {
  if (!outcome.ok()) {
    return absl::Status(outcome.status().code(),
                        absl::StrCat("POST ", ToAbsl(peer), ": ", outcome.status().message()));
  }
  const HttpResponse& response = *outcome;
  const int64_t s = response.status;
  if (s >= 200 && s < 300) return absl::OkStatus();
  std::string body(StripWhitespace(response.body.substr(0, 200)));
  const std::string message =
      absl::StrCat("HTTP ", s, " from ", ToAbsl(peer), body.empty() ? "" : ": ", body);
  if (s == 408 || s == 429 || s >= 500) {
    absl::Status status = absl::UnavailableError(message);
    if (response.retry_after) status = WithRetryAfter(std::move(status), *response.retry_after);
    return status;
  }
  return absl::FailedPreconditionError(message);
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now) {
  int64_t seconds;
  if (absl::SimpleAtoi(ToAbsl(value), &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", ToAbsl(value), absl::UTCTimeZone(), &when,
                      &error)) {
    return std::max(absl::ZeroDuration(), when - now);
  }
  return std::nullopt;
}

absl::Status ValidateHttpUrl(const std::string& url) {
  if (!absl::StartsWithIgnoreCase(url, "http://") && !absl::StartsWithIgnoreCase(url, "https://")) {
    // The URL itself is never echoed: a webhook's path or query is often its credential.
    return absl::InvalidArgumentError("must be an http:// or https:// URL");
  }
  CURLU* u = curl_url();
  const CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("not a usable URL (", settings::RedactUrl(url),
                                                   "...): ", curl_url_strerror(rc)));
  }
  return absl::OkStatus();
}

}  // namespace faultline

namespace faultline {

std::string UrlOrigin(const std::string& url) {
  CURLU* u = curl_url();
  std::string out = "(invalid URL)";
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    out = absl::StrCat(scheme ? scheme : "", "://", host ? host : "", port ? ":" : "",
                       port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

}  // namespace faultline

#include "app/metrics_endpoint.h"

#include <civetweb.h>
#include <openssl/sha.h>

#include <atomic>
#include <cstring>
#include <limits>

#include "CivetServer.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace faultline {
namespace {

// civetweb's callback gets no user pointer of ours (the Exposer owns the server): the active
// endpoint is reachable through this one slot.
std::atomic<MetricsEndpoint*> g_active{nullptr};

// exporter-toolkit compares a wrong user's password against a hash too, so that the answer's
// timing does not tell which users exist. bcrypt of "" at cost 10.
constexpr char kNobodyHash[] = "$2y$10$GG0ZDdbjVnTBcJC9gaZGM.s3Az5PjrllkS5WvEwq9LYfVR8233dZu";
constexpr char kChallenge[] = "WWW-Authenticate: Basic realm=\"faultline\", charset=\"UTF-8\"\r\n";
// Credentials that passed bcrypt, kept as SHA-256 digests (as exporter-toolkit caches them): a
// scrape every few seconds and the probes would otherwise cost 50-80 ms of bcrypt each on one
// of civetweb's two threads. Cleared when full.
constexpr size_t kAuthCacheSize = 64;

int Reply(mg_connection* conn, int status, const std::string& body,
          const char* extra_headers = "") {
  const char* reason = status == 200   ? "OK"
                       : status == 401 ? "Unauthorized"
                       : status == 403 ? "Forbidden"
                                       : "Service Unavailable";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n%s",
            status, reason, body.size(), extra_headers, body.c_str());
  return status;
}

}  // namespace

class MetricsEndpoint::AuthFailures final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f =
        Family("faultline_metrics_auth_failures_total",
               "Requests to the metrics endpoint refused for basic auth, by reason (missing: no "
               "or unreadable credentials; wrong: unknown user or wrong password).",
               prometheus::MetricType::Counter);
    AddSample(&f, static_cast<double>(missing.load()), {{"reason", "missing"}});
    AddSample(&f, static_cast<double>(wrong.load()), {{"reason", "wrong"}});
    return {f};
  }

  std::atomic<uint64_t> missing{0}, wrong{0};
};

bool MetricsEndpoint::Authorized(mg_connection* conn) {
  if (web_.basic_auth_users.empty()) return true;
  // Neither the header nor the password is ever logged or echoed.
  const char* header = mg_get_header(conn, "Authorization");
  std::string decoded;
  const bool basic = header != nullptr && absl::StartsWithIgnoreCase(header, "Basic ") &&
                     absl::Base64Unescape(absl::StripLeadingAsciiWhitespace(header + 6), &decoded);
  const size_t colon = decoded.find(':');
  if (!basic || colon == std::string::npos) {
    auth_failures_->missing.fetch_add(1);
    Reply(conn, 401, "Unauthorized\n", kChallenge);
    return false;
  }
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(decoded.data()), decoded.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  {
    std::lock_guard<std::mutex> lock(auth_cache_mu_);
    if (auth_cache_.contains(digest)) {
      std::fill(decoded.begin(), decoded.end(), '\0');
      return true;
    }
  }
  const std::string user = decoded.substr(0, colon);
  const std::string* hash = nullptr;
  for (const auto& [name, h] : web_.basic_auth_users) {
    if (name == user) hash = &h;
  }
  const bool ok = BcryptMatches(decoded.substr(colon + 1), hash != nullptr ? *hash : kNobodyHash) &&
                  hash != nullptr;
  std::fill(decoded.begin(), decoded.end(), '\0');
  if (ok) {
    std::lock_guard<std::mutex> lock(auth_cache_mu_);
    if (auth_cache_.size() >= kAuthCacheSize) auth_cache_.clear();
    auth_cache_.insert(std::move(digest));
    return true;
  }
  auth_failures_->wrong.fetch_add(1);
  Reply(conn, 401, "Unauthorized\n", kChallenge);
  return false;
}

int MetricsEndpoint::OnRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const char* uri = info->local_uri != nullptr ? info->local_uri : "";
  const bool healthz = std::strcmp(uri, "/healthz") == 0;
  const bool readyz = std::strcmp(uri, "/readyz") == 0;
  MetricsEndpoint* self = g_active.load();
  if (self == nullptr) return Reply(conn, 503, "stopping\n");
  // With TLS, civetweb listens on loopback for the TLS front only: nothing may bypass it.
  // (Its relays connect from 127.0.0.1, bound to a port it knows.)
  if (self->tls_front_ != nullptr && (std::strcmp(info->remote_addr, "127.0.0.1") != 0 ||
                                      !self->tls_front_->Relays(info->remote_port))) {
    return Reply(conn, 403, "this endpoint speaks HTTPS on its metrics.listen port\n");
  }
  // Every path, as exporter-toolkit protects them all (a probe sends the header too).
  if (!self->Authorized(conn)) return 401;
  if (!healthz && !readyz) return 0;  // civetweb goes on: /metrics and 404s
  std::string why;
  const Check& check = healthz ? self->live_ : self->ready_;
  if (check(&why)) return Reply(conn, 200, healthz ? "ok\n" : "ready\n");
  return Reply(conn, 503, why + "\n");
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, std::shared_ptr<prometheus::Collectable> metrics, Check live,
    Check ready, WebConfig web) {
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->metrics_ = std::move(metrics);
  e->auth_failures_ = std::make_shared<AuthFailures>();
  e->live_ = std::move(live);
  e->ready_ = std::move(ready);
  e->web_ = std::move(web);
  static CivetCallbacks callbacks;
  callbacks.begin_request = &MetricsEndpoint::OnRequest;
  // With TLS, civetweb serves plain HTTP on a loopback port behind faultline's own TLS front
  // (app/tls_front.h says why civetweb's TLS cannot be used).
  const std::string civetweb_listen = e->web_.tls ? "127.0.0.1:0" : listen;
  try {
    // Two threads: a scrape and a health probe at once; nothing here is slow but a bcrypt check
    // (some 50 ms at cost 10).
    e->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", civetweb_listen, "num_threads", "2"},
        &callbacks);
  } catch (const std::exception& ex) {
    return absl::UnavailableError(
        absl::StrCat("metrics.listen: cannot listen on ", civetweb_listen, ": ", ex.what()));
  }
  const std::vector<int> bound = e->exposer_->GetListeningPorts();
  e->port_ = bound.empty() ? 0 : bound.front();
  if (e->web_.tls) {
    absl::StatusOr<std::unique_ptr<TlsFront>> front =
        TlsFront::Start(listen, e->web_.tls_server_config, e->port_);
    if (!front.ok()) return front.status();
    e->tls_front_ = std::move(*front);
    e->port_ = e->tls_front_->port();
  }
  e->exposer_->RegisterCollectable(e->metrics_);
  e->exposer_->RegisterCollectable(e->auth_failures_);
  g_active.store(e.get());
  return e;
}

MetricsEndpoint::~MetricsEndpoint() {
  MetricsEndpoint* self = this;
  g_active.compare_exchange_strong(self, nullptr);
  exposer_.reset();  // joins civetweb's threads before the checks and the front go away
  tls_front_.reset();
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void AddSample(prometheus::MetricFamily* family, double value,
               std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  switch (family->type) {
    case prometheus::MetricType::Counter:
      m.counter.value = value;
      break;
    case prometheus::MetricType::Gauge:
      m.gauge.value = value;
      break;
    default:
      m.untyped.value = value;
  }
  family->metric.push_back(std::move(m));
}

void AddHistogram(prometheus::MetricFamily* family, const std::vector<double>& bounds,
                  const std::vector<uint64_t>& cumulative, double sum,
                  std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  for (size_t i = 0; i < cumulative.size(); ++i) {
    m.histogram.bucket.push_back(
        {.cumulative_count = cumulative[i],
         .upper_bound = i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity()});
  }
  m.histogram.sample_count = cumulative.empty() ? 0 : cumulative.back();
  m.histogram.sample_sum = sum;
  family->metric.push_back(std::move(m));
}

}  // namespace faultline

// The HTTP listener of `faultline run` (metrics.listen): /metrics in the Prometheus text format,
// /healthz (the process is alive and its consumer loop turning) and /readyz (it has joined its
// consumer group). prometheus-cpp's pull Exposer (civetweb) serves all three; the two health
// paths are answered in civetweb's begin_request callback, on civetweb's threads.
//
// What /metrics shows comes from one Collectable (app/metrics.h), read at scrape time, plus the
// endpoint's own faultline_metrics_auth_failures_total.
//
// With a web configuration (app/web_config.h) the listener speaks HTTPS only (app/tls_front.h:
// faultline's OpenSSL in front of civetweb, which then listens on loopback and answers only the
// front) and every path asks for a basic-auth user, as exporter-toolkit does; a failure is
// answered 401 with `WWW-Authenticate: Basic`, counted, and never logged.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "app/tls_front.h"
#include "app/web_config.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

struct mg_connection;
namespace prometheus {
class Exposer;
}

namespace faultline {

class MetricsEndpoint {
 public:
  // A health check: true when healthy; otherwise `why` says what is wrong (the 503 body).
  using Check = std::function<bool(std::string* why)>;

  // Listens on `listen` ("host:port"; port 0 picks a free one). kUnavailable when the address
  // cannot be bound (taken, or not this machine's), or when TLS cannot start (a certificate
  // that does not load): a runtime failure, not a configuration error, since
  // the same file works elsewhere. One endpoint per process at a time.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Collectable> metrics, Check live,
      Check ready, WebConfig web = {});
  ~MetricsEndpoint();

  int port() const { return port_; }
  // "https" with tls_server_config, else "http".
  const char* scheme() const { return web_.tls ? "https" : "http"; }

 private:
  class AuthFailures;

  MetricsEndpoint() = default;
  static int OnRequest(mg_connection* conn);
  // False (and the 401 sent) when basic auth is on and `conn` lacks a valid user.
  bool Authorized(mg_connection* conn);

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<TlsFront> tls_front_;  // with tls_server_config
  std::shared_ptr<prometheus::Collectable> metrics_;
  std::shared_ptr<AuthFailures> auth_failures_;
  // SHA-256 of "user:password" of the credentials bcrypt accepted (at most a few dozen).
  std::mutex auth_cache_mu_;
  absl::flat_hash_set<std::string> auth_cache_;  // guarded by auth_cache_mu_
  Check live_, ready_;
  WebConfig web_;
  int port_ = 0;
};

// Helpers to build metric families by hand (the Collectable reads atomics at scrape time).
prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type);
// Adds one sample with `labels` ({name, value} pairs) to `family`: a counter, gauge or untyped.
void AddSample(prometheus::MetricFamily* family, double value,
               std::vector<prometheus::ClientMetric::Label> labels = {});
// Adds a histogram sample: cumulative counts per upper bound, +Inf last.
void AddHistogram(prometheus::MetricFamily* family, const std::vector<double>& bounds,
                  const std::vector<uint64_t>& cumulative, double sum,
                  std::vector<prometheus::ClientMetric::Label> labels = {});

}  // namespace faultline

// The HTTP listener of `faultline run` (metrics.listen): /metrics in the Prometheus text format,
// /healthz (the process is alive and its consumer loop turning) and /readyz (it has joined its
// consumer group). prometheus-cpp's pull Exposer (civetweb) serves all three; the two health
// paths are answered in civetweb's begin_request callback, on civetweb's threads.
//
// What /metrics shows comes from one Collectable (app/metrics.h), read at scrape time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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
  // cannot be bound (taken, or not this machine's): a runtime failure, not a configuration
  // error, since the same file works elsewhere. One endpoint per process at a time.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Collectable> metrics, Check live,
      Check ready);
  ~MetricsEndpoint();

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  static int OnRequest(mg_connection* conn);

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Collectable> metrics_;
  Check live_, ready_;
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

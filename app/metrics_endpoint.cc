#include "app/metrics_endpoint.h"

#include <civetweb.h>

#include <atomic>
#include <cstring>
#include <limits>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace faultline {
namespace {

// civetweb's callback gets no user pointer of ours (the Exposer owns the server): the active
// endpoint is reachable through this one slot.
std::atomic<MetricsEndpoint*> g_active{nullptr};

int Reply(mg_connection* conn, int status, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n%s",
            status, status == 200 ? "OK" : "Service Unavailable", body.size(), body.c_str());
  return status;
}

}  // namespace

int MetricsEndpoint::OnRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const char* uri = info->local_uri != nullptr ? info->local_uri : "";
  const bool healthz = std::strcmp(uri, "/healthz") == 0;
  const bool readyz = std::strcmp(uri, "/readyz") == 0;
  if (!healthz && !readyz) return 0;  // civetweb goes on: /metrics and 404s
  MetricsEndpoint* self = g_active.load();
  if (self == nullptr) return Reply(conn, 503, "stopping\n");
  std::string why;
  const Check& check = healthz ? self->live_ : self->ready_;
  if (check(&why)) return Reply(conn, 200, healthz ? "ok\n" : "ready\n");
  return Reply(conn, 503, why + "\n");
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, std::shared_ptr<prometheus::Collectable> metrics, Check live,
    Check ready) {
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->metrics_ = std::move(metrics);
  e->live_ = std::move(live);
  e->ready_ = std::move(ready);
  static CivetCallbacks callbacks;
  callbacks.begin_request = &MetricsEndpoint::OnRequest;
  try {
    // Two threads: a scrape and a health probe at once; nothing here is slow.
    e->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", listen, "num_threads", "2"}, &callbacks);
  } catch (const std::exception& ex) {
    return absl::UnavailableError(
        absl::StrCat("metrics.listen: cannot listen on ", listen, ": ", ex.what()));
  }
  const std::vector<int> ports = e->exposer_->GetListeningPorts();
  e->port_ = ports.empty() ? 0 : ports.front();
  e->exposer_->RegisterCollectable(e->metrics_);
  g_active.store(e.get());
  return e;
}

MetricsEndpoint::~MetricsEndpoint() {
  MetricsEndpoint* self = this;
  g_active.compare_exchange_strong(self, nullptr);
  exposer_.reset();  // joins civetweb's threads before the checks go away
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

// Everything `faultline run` exposes on /metrics, read at scrape time from the stages' own
// counters (atomics and snapshots), so the per-event path pays nothing for metrics. Names follow
// the Prometheus conventions (`_total` counters, `_seconds`, `_bytes`); labels are bounded
// (rule, severity, status, reason, sink, detector, topic, partition), never a host or a pool.
#pragma once

#include <memory>
#include <vector>

#include "app/pipeline.h"
#include "ingest/kafka/kafka_source.h"
#include "prometheus/collectable.h"

namespace faultline {

class FaultlineMetrics final : public prometheus::Collectable {
 public:
  // The workers' pipelines (at least one; they share a dispatcher) and their Kafka consumers
  // (none for replay): their counters are summed, their partitions listed. All must outlive the
  // endpoint that scrapes this.
  FaultlineMetrics(std::vector<const Pipeline*> pipelines, std::vector<const KafkaSource*> sources)
      : pipelines_(std::move(pipelines)), sources_(std::move(sources)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<const Pipeline*> pipelines_;
  std::vector<const KafkaSource*> sources_;
};

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds, from /proc/self.
void CollectProcessMetrics(std::vector<prometheus::MetricFamily>* out);

}  // namespace faultline

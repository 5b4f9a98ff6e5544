// faultline's configuration file: YAML parsed into validated plain structs. Unknown keys, bad
// durations and bad numbers are errors naming the field path, all reported at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "detect/config.h"
#include "ingest/kafka/kafka_source.h"
#include "ingest/parse/envelope_parser.h"
#include "sinks/options.h"

namespace faultline {

// delivery: the dispatcher between detection and the sinks (sinks/dispatcher.h). queue_capacity,
// on_full and the retry settings are defaults every sink may override in its own entry.
struct DeliveryConfig {
  size_t queue_capacity = 10000;
  bool drop_when_full = false;  // on_full: backpressure (false) | drop
  absl::Duration retry_backoff = absl::Seconds(1);
  absl::Duration retry_backoff_max = absl::Minutes(1);
  // How long `run` waits for the sinks at a stop before it commits what was delivered.
  absl::Duration shutdown_timeout = absl::Seconds(10);
  // When set, alerts are journaled here before their offsets are committed (sinks/spool/).
  std::string spool_dir;
};

// metrics: the Prometheus endpoint (/metrics, /healthz, /readyz) of `run`.
struct MetricsConfig {
  std::string listen;  // host:port; empty: no endpoint
};

struct Config {
  KafkaSourceConfig kafka;
  // Messages larger than this are rejected as too_large before parsing.
  size_t max_message_bytes = 1 << 20;
  // ingest.format and ingest.local_time_zone: the forwarder envelope (auto-detected per message
  // unless forced) and the zone of NXLog CE's zone-less times.
  EnvelopeOptions envelope;
  // ingest.dead_letter_topic: rejected messages go there (on kafka.brokers) with the reason and
  // their source partition and offset in headers; empty: rejects are only counted.
  std::string dead_letter_topic;
  DetectConfig detect;
  DeliveryConfig delivery;
  MetricsConfig metrics;
  std::vector<SinkSpec> sinks = {SinkSpec{.type = "stdout", .options = {{"format", "json"}}}};
};

absl::StatusOr<Config> ParseConfig(std::string_view yaml);
// metrics.listen and --metrics-listen: "host:port" (port 0: any free port); empty is fine.
absl::Status ValidateListenAddress(const std::string& listen);
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace faultline

// faultline's configuration file. Each section's settings are declared once, by the component
// that owns them (a settings::Schema next to its code: kafka in ingest/kafka/, each detector in
// its folder, each sink type in its folder, the sections below in config.cc); one reader walks
// the file against them and reports every problem at once, with its line and key path.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/settings.h"
#include "detect/config.h"
#include "ingest/kafka/kafka_source.h"
#include "ingest/parse/envelope_parser.h"
#include "sinks/registry.h"

namespace faultline {

// ingest: how messages are read before detection.
struct IngestConfig {
  // Messages larger than this are rejected as too_large before parsing.
  size_t max_message_bytes = 1 << 20;
  // format and local_time_zone: the forwarder envelope (auto-detected per message unless forced)
  // and the zone of NXLog CE's zone-less times.
  EnvelopeOptions envelope;
  // Rejected messages go there (on kafka.brokers) with the reason and their source partition and
  // offset in headers; empty: rejects are only counted.
  std::string dead_letter_topic;
  // `faultline rekey` publishes every parsed event there, keyed by host (protobuf).
  std::string rekey_topic;
  // `run` forwards the fleet detector's events there, keyed by pool, and reads them back.
  std::string pool_topic;
};

// delivery: the dispatcher between detection and the sinks (sinks/dispatcher.h). queue_capacity,
// on_full and the retry settings are defaults every sink may override in its own entry.
struct DeliveryConfig {
  QueueOptions queue;  // queue_capacity, on_full, retry_backoff, retry_backoff_max
  // How long `run` waits for the sinks at a stop before it commits what was delivered.
  absl::Duration shutdown_timeout = absl::Seconds(10);
  // When set, alerts are journaled here before their offsets are committed (sinks/spool/).
  std::string spool_dir;
};

// metrics: the Prometheus endpoint (/metrics, /healthz, /readyz) of `run`.
struct MetricsConfig {
  std::string listen;  // host:port; empty: no endpoint
  // exporter-toolkit's web configuration (TLS, basic auth): app/web_config.h; empty: plain HTTP.
  std::string web_config_file;
};

// Alerts on stdout, as JSON lines or (`text`) readable lines: the sinks when the file names none,
// and those of replay and the demo.
std::vector<SinkSpec> StdoutSinks(bool text = false);

struct Config {
  KafkaSourceConfig kafka;
  IngestConfig ingest;
  DetectConfig detect;
  DeliveryConfig delivery;
  MetricsConfig metrics;
  std::vector<SinkSpec> sinks = StdoutSinks();

  // The file it was read from, and the problems its reading found, with the place of each key:
  // Service::Create adds those it finds building the detectors, sinks and topics, placed at the
  // keys they are about, and reports them all at once.
  std::string file;
  settings::Problems problems;
};

// The schema of the whole file (the built-in detectors and sinks included): for the reader,
// `faultline config-reference` and docs/CONFIGURATION.md.
const settings::SchemaBase& ConfigSchema();
// docs/CONFIGURATION.md: the reference generated from ConfigSchema().
std::string ConfigReference();

// Every problem of `yaml`, one per line: "FILE:LINE:COLUMN: key.path: what is wrong".
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file = "");
// metrics.listen and --metrics-listen: "host:port" (port 0: any free port); empty is fine.
absl::Status ValidateListenAddress(const std::string& listen);
// A file that cannot be read or is not YAML is an error; the problems of its settings stay in
// Config::problems (defaults in place of the wrong values) for Service::Create to report with
// its own, in one round.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace faultline

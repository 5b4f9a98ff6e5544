// Publishes alerts to a Kafka topic (`type: kafka`): the protobuf faultline.v1.Alert
// (`format: protobuf`, the default) or its JSON (`format: json`), key = fingerprint (so every
// notification of an incident lands on one partition, in order), CloudEvents attributes as
// `ce_` headers (binary content mode of the CloudEvents Kafka binding), through an idempotent
// producer. A batch is delivered when every record's delivery report came back.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/kafka/producer.h"
#include "sinks/registry.h"

namespace faultline {

// The record for `alert`: value, key and headers ce_specversion, ce_id (the idempotency key),
// ce_source, ce_type (faultline.alert.firing | faultline.alert.resolved), ce_time (the alert's
// last event), ce_subject (host, pool or service), content-type.
KafkaRecord AlertRecord(const Alert& alert, bool json, const std::string& source);

class KafkaSink final : public Sink {
 public:
  struct Config {
    std::string topic;
    std::string brokers;  // empty: kafka.brokers
    bool json = false;    // format: protobuf | json
    std::string source = "faultline";
    absl::Duration timeout = absl::Seconds(30);
    int batch_size = 100;
    std::vector<std::pair<std::string, std::string>> properties;
    static const settings::Schema<Config>& Schema();
  };
  static absl::StatusOr<std::unique_ptr<Sink>> Create(const Config& config, const SinkContext& ctx);
  ~KafkaSink() override;

  absl::Status Deliver(absl::Span<const Alert* const> alerts) override;
  size_t max_batch() const override { return static_cast<size_t>(config_.batch_size); }

 private:
  // `config` with its brokers and properties resolved (kafka.* where the entry has none).
  explicit KafkaSink(Config config) : config_(std::move(config)) {}
  // Creates the producer if there is none (replacing a failed one did not work last time).
  absl::Status EnsureProducer();
  // An idempotent producer that hit a fatal error (a fenced or out-of-sequence producer id)
  // refuses everything from then on: replace it.
  absl::Status ReplaceIfFatal();

  const Config config_;
  KafkaClient producer_;
};

}  // namespace faultline

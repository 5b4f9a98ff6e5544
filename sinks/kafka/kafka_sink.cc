#include "sinks/kafka/kafka_sink.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/log.h"
#include "sinks/alert_text.h"

namespace faultline {

KafkaRecord AlertRecord(const Alert& alert, bool json, const std::string& source) {
  KafkaRecord r;
  r.key = alert.fingerprint();
  r.value = json ? AlertToJson(alert) : alert.SerializeAsString();
  std::vector<std::string> subject;
  for (const std::string* part : {&alert.host(), &alert.app_pool(), &alert.service()}) {
    if (!part->empty()) subject.push_back(*part);
  }
  r.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", IdempotencyKey(alert)},
      {"ce_source", source},
      {"ce_type", absl::StrCat("faultline.alert.", alert.status())},
      {"ce_time", Rfc3339(alert.last_event_time())},
      {"ce_subject", absl::StrJoin(subject, "/")},
      {"content-type", json ? "application/json" : "application/protobuf"},
  };
  if (!json) r.headers.push_back({"ce_dataschema", "urn:faultline:proto:faultline.v1.Alert"});
  return r;
}

const settings::Schema<KafkaSink::Config>& KafkaSink::Config::Schema() {
  static const auto* schema =
      &(*new settings::Schema<Config>(
            "Alerts published to a Kafka topic, keyed by fingerprint, as CloudEvents headers "
            "and a faultline.v1.Alert (protobuf) or its JSON."))
           .String("topic", &Config::topic, "The topic to publish alerts to.", /*required=*/true)
           .String("brokers", &Config::brokers, "Bootstrap servers. Default: kafka.brokers.")
           .Choice("format", &Config::json,
                   std::vector<std::pair<std::string, bool>>{{"protobuf", false}, {"json", true}},
                   "The record value.")
           .String("source", &Config::source, "The CloudEvents ce_source header.")
           .Duration("timeout", &Config::timeout, settings::Bound::kPositive,
                     "librdkafka's message.timeout.ms: after it the dispatcher retries.")
           .Integer("batch_size", &Config::batch_size, 1, 100000, "Alerts per delivery.")
           .StringMap("properties", &Config::properties,
                      "librdkafka producer properties, after kafka.properties "
                      "(security.protocol, sasl.*, ...).",
                      settings::MapValues::kInlineFileOrEnv)
           .Check([](const Config& c, settings::Checker& check) {
             if (absl::Status s = ValidateProducerConfig("", c.properties); !s.ok()) {
               check.Error("properties", std::string(s.message()));
             }
           });
  return *schema;
}

absl::StatusOr<std::unique_ptr<Sink>> KafkaSink::Create(const Config& config,
                                                        const SinkContext& ctx) {
  const std::string brokers = config.brokers.empty() ? ctx.kafka_brokers : config.brokers;
  if (brokers.empty()) {
    return absl::InvalidArgumentError("brokers: required when kafka.brokers is not set");
  }
  KafkaProperties properties = ctx.kafka_properties;
  for (const auto& [k, v] : config.properties) properties.emplace_back(k, v);
  // librdkafka gives up on a record after message.timeout.ms; the dispatcher retries after that.
  properties.emplace_back("message.timeout.ms",
                          std::to_string(absl::ToInt64Milliseconds(config.timeout)));
  Config resolved = config;
  resolved.brokers = brokers;
  resolved.properties = std::move(properties);
  std::unique_ptr<KafkaSink> sink(new KafkaSink(std::move(resolved)));
  if (ctx.dry_run) {
    if (absl::Status s = ValidateProducerConfig(brokers, sink->config_.properties); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("properties: ", s.message()));
    }
    return std::unique_ptr<Sink>(std::move(sink));
  }
  absl::StatusOr<KafkaClient> producer = NewPublisher(brokers, sink->config_.properties);
  if (!producer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("properties: ", producer.status().message()));
  }
  sink->producer_ = *std::move(producer);
  return std::unique_ptr<Sink>(std::move(sink));
}

KafkaSink::~KafkaSink() {
  if (producer_ != nullptr) rd_kafka_flush(producer_.get(), 5000);
}

absl::Status KafkaSink::EnsureProducer() {
  if (producer_ != nullptr) return absl::OkStatus();
  absl::StatusOr<KafkaClient> producer = NewPublisher(config_.brokers, config_.properties);
  if (!producer.ok()) return absl::UnavailableError(producer.status().message());
  producer_ = *std::move(producer);
  return absl::OkStatus();
}

absl::Status KafkaSink::ReplaceIfFatal() {
  char reason[512];
  if (rd_kafka_fatal_error(producer_.get(), reason, sizeof(reason)) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::OkStatus();
  }
  LogError(
      absl::StrCat("kafka sink: the producer failed for good (", reason, "); starting a new one"));
  producer_.reset();
  return EnsureProducer();
}

absl::Status KafkaSink::Deliver(absl::Span<const Alert* const> alerts) {
  if (absl::Status s = EnsureProducer(); !s.ok()) return s;
  std::vector<KafkaRecord> records;
  records.reserve(alerts.size());
  for (const Alert* a : alerts) records.push_back(AlertRecord(*a, config_.json, config_.source));
  absl::Status status =
      PublishAll(producer_.get(), config_.topic, records, config_.timeout + absl::Seconds(5));
  if (!status.ok()) {
    if (absl::Status replaced = ReplaceIfFatal(); !replaced.ok()) return replaced;
  }
  return status;
}

}  // namespace faultline

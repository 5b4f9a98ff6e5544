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

absl::StatusOr<std::unique_ptr<Sink>> KafkaSink::Create(SinkOptions& options,
                                                        const SinkContext& ctx) {
  const std::string topic = options.String("topic");
  if (topic.empty()) options.Error("topic", "required: the topic to publish alerts to");
  const std::string brokers = options.String("brokers", ctx.kafka_brokers);
  if (brokers.empty()) options.Error("brokers", "required when kafka.brokers is not set");
  const bool json = options.Choice("format", "protobuf", {"protobuf", "json"}) == "json";
  const std::string source = options.String("source", "faultline");
  const absl::Duration timeout = options.Duration("timeout", absl::Seconds(30));
  const size_t batch = static_cast<size_t>(options.Integer("batch_size", 100, 1, 100000));
  KafkaProperties properties = ctx.kafka_properties;
  for (const auto& [k, v] : options.Map("properties")) properties.emplace_back(k, v);
  // librdkafka gives up on a record after message.timeout.ms; the dispatcher retries after that.
  properties.emplace_back("message.timeout.ms", std::to_string(absl::ToInt64Milliseconds(timeout)));
  std::unique_ptr<KafkaSink> sink(
      new KafkaSink(topic, brokers, properties, json, source, timeout, batch));
  if (ctx.dry_run || topic.empty() || brokers.empty()) {
    if (absl::Status s = ValidateProducerConfig(brokers, properties); !s.ok()) {
      options.Error("properties", s.message());
    }
    return std::unique_ptr<Sink>(std::move(sink));
  }
  absl::StatusOr<rd_kafka_t*> producer = NewPublisher(brokers, properties);
  if (!producer.ok()) {
    options.Error("properties", producer.status().message());
    return std::unique_ptr<Sink>(std::move(sink));
  }
  sink->producer_ = *producer;
  return std::unique_ptr<Sink>(std::move(sink));
}

KafkaSink::~KafkaSink() {
  if (producer_ == nullptr) return;
  rd_kafka_flush(producer_, 5000);
  rd_kafka_destroy(producer_);
}

absl::Status KafkaSink::ReplaceIfFatal() {
  char reason[512];
  if (rd_kafka_fatal_error(producer_, reason, sizeof(reason)) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::OkStatus();
  }
  LogError(
      absl::StrCat("kafka sink: the producer failed for good (", reason, "); starting a new one"));
  rd_kafka_destroy(producer_);
  producer_ = nullptr;
  absl::StatusOr<rd_kafka_t*> producer = NewPublisher(brokers_, properties_);
  if (!producer.ok()) return absl::UnavailableError(producer.status().message());
  producer_ = *producer;
  return absl::OkStatus();
}

absl::Status KafkaSink::Deliver(absl::Span<const Alert* const> alerts) {
  if (producer_ == nullptr) {  // replacing a failed producer did not work last time
    absl::StatusOr<rd_kafka_t*> producer = NewPublisher(brokers_, properties_);
    if (!producer.ok()) return absl::UnavailableError(producer.status().message());
    producer_ = *producer;
  }
  std::vector<KafkaRecord> records;
  records.reserve(alerts.size());
  for (const Alert* a : alerts) records.push_back(AlertRecord(*a, json_, source_));
  absl::Status status = PublishAll(producer_, topic_, records, timeout_ + absl::Seconds(5));
  if (!status.ok()) {
    if (absl::Status replaced = ReplaceIfFatal(); !replaced.ok()) return replaced;
  }
  return status;
}

}  // namespace faultline

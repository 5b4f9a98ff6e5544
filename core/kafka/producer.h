// Kafka producers, shared by the dead-letter producer (ingest/), the Kafka alerts sink (sinks/),
// the demo and the tests: one place that sets the producer defaults (idempotent, acks=all).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/kafka/handles.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

using KafkaProperties = std::vector<std::pair<std::string, std::string>>;
using DeliveryCallback = void (*)(rd_kafka_t*, const rd_kafka_message_t*, void*);

// Creates a producer: idempotent, `properties` applied last, delivery reports to `on_delivery`
// with `opaque`. kInvalidArgument naming the property librdkafka refused.
absl::StatusOr<KafkaClient> NewKafkaProducer(const std::string& brokers,
                                             const KafkaProperties& properties,
                                             DeliveryCallback on_delivery, void* opaque);

// Whether a produce error is one a retry cannot fix (too large, not authorized, invalid).
bool IsPermanentProduceError(rd_kafka_resp_err_t err);

// Sets one librdkafka property; on error, what is wrong, naming the property but never its value
// (librdkafka's message quotes it, and sasl.password or ssl.key.password are secrets).
std::string SetKafkaProperty(rd_kafka_conf_t* conf, const std::string& name,
                             const std::string& value);

// The same checks as NewKafkaProducer, creating nothing (check-config).
absl::Status ValidateProducerConfig(const std::string& brokers, const KafkaProperties& properties);

struct KafkaRecord {
  std::string key;
  std::string value;
  KafkaProperties headers;
  // The record's create time; InfinitePast: the producer's clock at send. Beats (Winlogbeat)
  // set it to the event's own time.
  absl::Time timestamp = absl::InfinitePast();
  int32_t partition = -1;  // -1: by the key, through the partitioner
};

// A producer for PublishAll (its delivery reports are collected per call). The demo passes
// test.mock.num.brokers to get librdkafka's in-process mock cluster.
absl::StatusOr<KafkaClient> NewPublisher(const std::string& brokers,
                                         const KafkaProperties& properties = {});

// Produces every record to `topic` and waits up to `timeout` for every delivery report. Errors:
// kDeadlineExceeded (reports still missing), kUnavailable (a broker error worth retrying),
// kFailedPrecondition (a record the broker refuses for good: too large, not authorized, ...),
// each naming the topic and the first failure.
absl::Status PublishAll(rd_kafka_t* publisher, const std::string& topic,
                        absl::Span<const KafkaRecord> records,
                        absl::Duration timeout = absl::Seconds(30));

// Creates `topic` with `partitions` partitions and replication factor 1 (a broker's
// auto-creation would give it one partition), with topic `configs` (e.g.
// message.timestamp.type=LogAppendTime), through `client` (any producer or consumer of the
// cluster). An existing topic is an error: the tests and benchmarks read exactly what they wrote.
absl::Status CreateKafkaTopic(rd_kafka_t* client, const std::string& topic, int partitions,
                              const KafkaProperties& configs = {},
                              absl::Duration timeout = absl::Seconds(30));

}  // namespace faultline

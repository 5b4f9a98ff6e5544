// Owners of librdkafka's C objects. librdkafka's C API (used instead of the C++ wrapper, which
// allocates per message) hands out raw pointers, each freed by its own *_destroy; a
// `KafkaPtr<T>` frees its object with the right one when it goes out of scope, so an early
// return cannot leak a handle or a partition list, and a class holding a client needs no
// destructor for it. Ownership rules of librdkafka that these do not hide:
//   - rd_kafka_new takes the conf only when it succeeds: NewKafkaClient releases it then.
//   - rd_kafka_producev takes headers only when it succeeds: release() them after that.
//   - a consumer should be closed (rd_kafka_consumer_close) before its client is destroyed.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

struct KafkaFree {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const {
    rd_kafka_topic_partition_list_destroy(p);
  }
  void operator()(rd_kafka_message_t* p) const { rd_kafka_message_destroy(p); }
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const { rd_kafka_headers_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
  void operator()(rd_kafka_NewTopic_t* p) const { rd_kafka_NewTopic_destroy(p); }
  void operator()(rd_kafka_topic_t* p) const { rd_kafka_topic_destroy(p); }
  void operator()(const rd_kafka_metadata_t* p) const { rd_kafka_metadata_destroy(p); }
};

template <typename T>
using KafkaPtr = std::unique_ptr<T, KafkaFree>;

using KafkaClient = KafkaPtr<rd_kafka_t>;  // a producer or a consumer
using KafkaConf = KafkaPtr<rd_kafka_conf_t>;
using KafkaPartitions = KafkaPtr<rd_kafka_topic_partition_list_t>;
using KafkaMessage = KafkaPtr<rd_kafka_message_t>;
using KafkaMetadata = KafkaPtr<const rd_kafka_metadata_t>;  // what rd_kafka_metadata returns

inline KafkaConf NewKafkaConf() { return KafkaConf(rd_kafka_conf_new()); }
inline KafkaPartitions NewKafkaPartitions(int capacity) {
  return KafkaPartitions(rd_kafka_topic_partition_list_new(capacity));
}

// rd_kafka_metadata of one topic, waiting up to `timeout_ms`; null when the cluster did not
// answer (the topic's own error, such as not existing, is in the metadata).
inline KafkaMetadata FetchTopicMetadata(rd_kafka_t* rk, rd_kafka_topic_t* topic, int timeout_ms) {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(rk, 0, topic, &metadata, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return nullptr;
  }
  return KafkaMetadata(metadata);
}

// rd_kafka_new with `conf` (taken on success, freed on failure). kInvalidArgument with
// librdkafka's reason when the client cannot be created (a property it accepted alone but not
// with the others: a SASL mechanism without its library, ...).
inline absl::StatusOr<KafkaClient> NewKafkaClient(rd_kafka_type_t type, KafkaConf conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return absl::InvalidArgumentError(
        std::string(type == RD_KAFKA_PRODUCER ? "producer: " : "consumer: ") + errstr);
  }
  static_cast<void>(conf.release());  // owned by the client now
  return KafkaClient(rk);
}

}  // namespace faultline

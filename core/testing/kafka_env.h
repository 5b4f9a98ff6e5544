// Where the real-broker tests find Kafka: $FAULTLINE_KAFKA_BOOTSTRAP, else the address
// deploy/local/kafka.sh wrote for the CTest fixture (build/kafka/bootstrap); and small helpers
// to read what landed there.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/clock.h"
#include "core/kafka/handles.h"
#include "core/kafka/producer.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"

namespace faultline::testing {

inline std::string KafkaBootstrap() {
  if (const char* env = std::getenv("FAULTLINE_KAFKA_BOOTSTRAP")) return env;
  std::ifstream in(std::string(FAULTLINE_BINARY_DIR) + "/kafka/bootstrap");
  std::string address;
  std::getline(in, address);
  return address;
}

// A topic or group name no earlier run used (the broker's data outlives test runs).
inline std::string UniqueName(const std::string& prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  return absl::StrCat(prefix, "-", absl::StrFormat("%016x", random()));
}

// Creates `topic` with `partitions` partitions (auto-creation would give it one) and the topic
// `configs` given.
inline absl::Status CreateTopic(const std::string& brokers, const std::string& topic,
                                int partitions, const KafkaProperties& configs = {}) {
  absl::StatusOr<KafkaClient> client = NewPublisher(brokers);
  if (!client.ok()) return client.status();
  return CreateKafkaTopic(client->get(), topic, partitions, configs);
}

// A topic for records stamped long ago (a backfill): the broker's time retention goes by the
// records' own times, and deletes them minutes after they are written (once their segment
// rolls), under the consumer. The local broker keeps 24 hours: a
// restore test publishing last March's incident in two parts found its first part gone in about
// one run in twenty. A backfill topic keeps its records, as a user backfilling would.
inline absl::Status CreateBackfillTopic(const std::string& brokers, const std::string& topic,
                                        int partitions = 1) {
  return CreateTopic(brokers, topic, partitions, {{"retention.ms", "-1"}});
}

// Deletes the records of `topic`'s `partition` before `offset` (what retention does): the log
// then starts at `offset`.
inline absl::Status DeleteRecordsBefore(const std::string& brokers, const std::string& topic,
                                        int32_t partition, int64_t offset) {
  absl::StatusOr<KafkaClient> client = NewPublisher(brokers);
  if (!client.ok()) return client.status();
  KafkaPartitions before = NewKafkaPartitions(1);
  rd_kafka_topic_partition_list_add(before.get(), topic.c_str(), partition)->offset = offset;
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(before.get());
  KafkaPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(client->get()));
  rd_kafka_DeleteRecords(client->get(), &request, 1, nullptr, queue.get());
  rd_kafka_DeleteRecords_destroy(request);
  KafkaPtr<rd_kafka_event_t> event(rd_kafka_queue_poll(queue.get(), 10000));
  if (event == nullptr) return absl::DeadlineExceededError("DeleteRecords: no answer in 10 s");
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("DeleteRecords: ", rd_kafka_event_error_string(event.get())));
  }
  const rd_kafka_topic_partition_list_t* result =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event.get()));
  if (result == nullptr || result->cnt != 1 || result->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("DeleteRecords of ", topic, "[", partition, "]: ",
                                            result != nullptr && result->cnt == 1
                                                ? rd_kafka_err2str(result->elems[0].err)
                                                : "no result"));
  }
  return absl::OkStatus();
}

// Produces `records` into `topic` on the cluster at `brokers` and waits for them to be in.
inline absl::Status Publish(const std::string& brokers, const std::string& topic,
                            const std::vector<KafkaRecord>& records) {
  absl::StatusOr<KafkaClient> producer = NewPublisher(brokers);
  if (!producer.ok()) return producer.status();
  return PublishAll(producer->get(), topic, records);
}

// A consumer of the cluster at `brokers` in `group` (librdkafka refuses a consumer only for a
// bad property, which these are not).
inline KafkaClient NewTestConsumer(const std::string& brokers, const std::string& group) {
  KafkaConf conf = NewKafkaConf();
  SetKafkaProperty(conf.get(), "bootstrap.servers", brokers);
  SetKafkaProperty(conf.get(), "group.id", group);
  absl::StatusOr<KafkaClient> consumer = NewKafkaClient(RD_KAFKA_CONSUMER, std::move(conf));
  if (!consumer.ok()) {
    ADD_FAILURE() << consumer.status();
    return nullptr;
  }
  return *std::move(consumer);
}

// The committed offset of `group` for one partition, asked of the cluster at `brokers` (the real
// broker or the mock cluster); -1000 when the broker did not answer.
inline int64_t CommittedOffset(const std::string& brokers, const std::string& group,
                               const std::string& topic, int32_t partition = 0) {
  KafkaClient rk = NewTestConsumer(brokers, group);
  if (rk == nullptr) return -1000;
  KafkaPartitions parts = NewKafkaPartitions(1);
  rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), partition);
  if (rd_kafka_committed(rk.get(), parts.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1000;
  return parts->elems[0].offset;
}

// How far `group` has committed in each partition of `topic`, against the partition's end (its
// high watermark), asked of the cluster at `brokers`. committed is -1001 (RD_KAFKA_OFFSET_INVALID)
// before the group's first commit of the partition, and both are -1000 when the broker did not
// answer (within 10 s each).
struct PartitionLag {
  int32_t partition = 0;
  int64_t committed = -1000;
  int64_t end = -1000;
  // Messages not yet committed; -1 when unknown.
  int64_t lag() const {
    if (end < 0 || committed == -1000) return -1;
    return end - std::max<int64_t>(committed, 0);
  }
};
inline std::vector<PartitionLag> GroupLag(const std::string& brokers, const std::string& group,
                                          const std::string& topic, int32_t partitions) {
  KafkaClient rk = NewTestConsumer(brokers, group);
  std::vector<PartitionLag> out(partitions);
  if (rk == nullptr) return out;
  KafkaPartitions parts = NewKafkaPartitions(partitions);
  for (int32_t p = 0; p < partitions; ++p) {
    out[p].partition = p;
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p);
  }
  if (rd_kafka_committed(rk.get(), parts.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < parts->cnt; ++i) {
      const int32_t p = parts->elems[i].partition;
      if (p >= 0 && p < partitions && parts->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out[p].committed = parts->elems[i].offset;
      }
    }
  }
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, 10000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      out[p].end = high;
    }
  }
  return out;
}

// Every message of partition 0 of `topic`, with its key and headers, read from the beginning
// until `expected` arrived (or 30 s passed).
struct Received {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};
inline std::vector<Received> ReadTopic(const std::string& brokers, const std::string& topic,
                                       size_t expected) {
  KafkaClient rk = NewTestConsumer(brokers, UniqueName("reader"));
  if (rk == nullptr) return {};
  KafkaPartitions parts = NewKafkaPartitions(1);
  rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk.get(), parts.get());
  std::vector<Received> out;
  const absl::Time deadline = RealClock::Get().TimeNow() + absl::Seconds(30);
  while (out.size() < expected && RealClock::Get().TimeNow() < deadline) {
    KafkaMessage message(rd_kafka_consumer_poll(rk.get(), 200));
    const rd_kafka_message_t* m = message.get();
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Received r{.key = m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : "",
                 .value = std::string(static_cast<const char*>(m->payload), m->len)};
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          r.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      out.push_back(std::move(r));
    }
  }
  rd_kafka_consumer_close(rk.get());
  return out;
}

}  // namespace faultline::testing

#define FAULTLINE_REQUIRE_KAFKA(var)                                                        \
  const std::string var = ::faultline::testing::KafkaBootstrap();                           \
  if (var.empty()) {                                                                        \
    GTEST_SKIP() << "no Kafka broker: run through ctest (it starts deploy/local/kafka.sh) " \
                    "or set FAULTLINE_KAFKA_BOOTSTRAP";                                     \
  }

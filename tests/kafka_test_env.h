// Where the real-broker tests find Kafka: $FAULTLINE_KAFKA_BOOTSTRAP, else the address
// deploy/local/kafka.sh wrote for the CTest fixture (build/kafka/bootstrap).
#pragma once

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// The committed offset of `group` for one partition, asked of the cluster at `brokers` (the real
// broker or the mock cluster); -1000 when the broker did not answer.
inline int64_t CommittedOffset(const std::string& brokers, const std::string& group,
                               const std::string& topic, int32_t partition = 0) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), partition);
  int64_t offset = -1000;
  if (rd_kafka_committed(rk, parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    offset = parts->elems[0].offset;
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy(rk);
  return offset;
}

}  // namespace faultline::testing

#define FAULTLINE_REQUIRE_KAFKA(var)                                                        \
  const std::string var = ::faultline::testing::KafkaBootstrap();                           \
  if (var.empty()) {                                                                        \
    GTEST_SKIP() << "no Kafka broker: run through ctest (it starts deploy/local/kafka.sh) " \
                    "or set FAULTLINE_KAFKA_BOOTSTRAP";                                     \
  }

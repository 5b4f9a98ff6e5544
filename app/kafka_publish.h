// Publishes records to a Kafka topic and waits for every delivery report: how the demo loads its
// sample incident into the mock cluster and how tests load the real broker.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

struct Record {
  std::string key;
  std::string value;
};

// Creates a producer for `brokers` (idempotent, acks=all). Extra properties apply last; the
// demo passes test.mock.num.brokers to get librdkafka's in-process mock cluster.
absl::StatusOr<rd_kafka_t*> NewProducer(
    const std::string& brokers,
    const std::vector<std::pair<std::string, std::string>>& properties = {});

// Produces every record and waits up to `timeout` for all delivery reports. kUnavailable
// naming the first failure if any record was not delivered.
absl::Status PublishAll(rd_kafka_t* producer, const std::string& topic,
                        const std::vector<Record>& records,
                        absl::Duration timeout = absl::Seconds(30));

// One record per non-blank line of `text`, each keyed by `key` (empty: no key).
std::vector<Record> SplitLines(std::string_view text, const std::string& key);
// The same for a JSON-lines file.
absl::StatusOr<std::vector<Record>> ReadLines(const std::string& path, const std::string& key);

}  // namespace faultline

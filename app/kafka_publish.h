// Loads JSON lines into Kafka records: how the demo fills the mock cluster with its sample
// incident and how tests fill the real broker (publish them with PublishAll, core/kafka).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kafka/producer.h"

namespace faultline {

// One record per non-blank line of `text`, each keyed by `key` (empty: no key).
std::vector<KafkaRecord> SplitLines(std::string_view text, const std::string& key);
// The same for a JSON-lines file.
absl::StatusOr<std::vector<KafkaRecord>> ReadLines(const std::string& path, const std::string& key);

// Sets each record's timestamp to its event's time, as Winlogbeat's Kafka output does (Beats
// stamp a record with the event's @timestamp): the broker then holds last March's incident as
// sent last March, not as a backlog of today. Records that do not parse keep the producer's clock.
void StampWithEventTimes(std::vector<KafkaRecord>& records);

}  // namespace faultline

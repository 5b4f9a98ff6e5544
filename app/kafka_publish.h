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

}  // namespace faultline

// Creates a librdkafka producer: idempotent, the given properties applied last, delivery reports
// to `on_delivery` with `opaque`. Shared by the dead-letter producer and the app's publisher.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

using DeliveryCallback = void (*)(rd_kafka_t*, const rd_kafka_message_t*, void*);

// kInvalidArgument naming the property librdkafka refused.
absl::StatusOr<rd_kafka_t*> NewKafkaProducer(
    const std::string& brokers, const std::vector<std::pair<std::string, std::string>>& properties,
    DeliveryCallback on_delivery, void* opaque);

}  // namespace faultline

// Publishes rejected messages to a dead-letter topic: value = the original bytes, key = the
// original key, headers faultline.reason, faultline.source.topic, faultline.source.partition,
// faultline.source.offset. An idempotent librdkafka producer with its own delivery thread;
// Publish only enqueues, and the message's DeliveryTicket is done when the delivery report
// arrives, so the source commits past a rejected message only once its dead letter is out.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/dead_letters.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

class DeadLetterProducer final : public DeadLetters {
 public:
  static absl::StatusOr<std::unique_ptr<DeadLetterProducer>> Create(
      const std::string& brokers, const std::string& topic,
      const std::vector<std::pair<std::string, std::string>>& properties = {});
  ~DeadLetterProducer() override;

  void Publish(const Message& message, ParseError reason,
               const std::shared_ptr<DeliveryTicket>& ticket) override;
  void Poll() override;
  absl::Status Flush(absl::Duration timeout) override;
  const DeadLetterStats& stats() const override { return stats_; }

 private:
  DeadLetterProducer(std::string topic) : topic_(std::move(topic)) {}
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);

  std::string topic_;
  rd_kafka_t* rk_ = nullptr;
  DeadLetterStats stats_;
};

}  // namespace faultline

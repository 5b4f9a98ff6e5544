// Publishes rejected messages to a dead-letter topic: value = the original bytes, key = the
// original key, headers faultline.reason, faultline.source.topic, faultline.source.partition,
// faultline.source.offset. An idempotent librdkafka producer with its own delivery threads;
// Publish only enqueues. The message's DeliveryTicket is done when its dead letter is delivered
// or refused for good (too large, not authorized: counted as failed); a dead letter that failed
// for a reason a retry can fix (the topic's broker unreachable past message.timeout.ms) is
// produced again, so the source never commits past a rejected message whose dead letter is not
// out. Delivery reports are served by Poll() and Flush(), on the source thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kafka/producer.h"
#include "ingest/dead_letters.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

class DeadLetterProducer final : public DeadLetters {
 public:
  static absl::StatusOr<std::unique_ptr<DeadLetterProducer>> Create(
      const std::string& brokers, const std::string& topic, const KafkaProperties& properties = {});
  ~DeadLetterProducer() override;

  void Publish(const Message& message, ParseError reason,
               const std::shared_ptr<DeliveryTicket>& ticket) override;
  bool Saturated() const override;
  void Poll() override;
  absl::Status Flush(absl::Duration timeout) override;
  const DeadLetterStats& stats() const override { return stats_; }

 private:
  // One dead letter, kept by the producer until its delivery report says it is out.
  struct Letter {
    std::string key, value;
    KafkaProperties headers;
    std::shared_ptr<DeliveryTicket> ticket;  // may be null
  };

  DeadLetterProducer(std::string brokers, std::string topic, KafkaProperties properties)
      : brokers_(std::move(brokers)),
        topic_(std::move(topic)),
        properties_(std::move(properties)) {}
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  // Hands `letter` to librdkafka; false (the letter done and counted as dropped) if its queue
  // refused it.
  bool Produce(std::unique_ptr<Letter> letter);
  // Produces again what failed retryably, and replaces a producer that failed fatally.
  void Retry();

  std::string brokers_, topic_;
  KafkaProperties properties_;
  KafkaClient rk_;
  std::vector<std::unique_ptr<Letter>> retry_;  // source thread only (reports arrive in Poll)
  size_t in_flight_ = 0;                        // produced, report not yet served; ditto
  DeadLetterStats stats_;
};

}  // namespace faultline

// Publishes records to one topic, each holding its message's DeliveryTicket: the dead-letter
// topic's rejects, and the rekey role's events keyed by host. An idempotent librdkafka producer
// with its own delivery threads; Publish only enqueues. A ticket is done when its record is
// delivered or refused for good (too large, not authorized: counted as failed); a record that
// failed for a reason a retry can fix (the topic's broker unreachable past message.timeout.ms)
// is produced again, so the source never commits past a message whose record is not out.
// Delivery reports are served by Poll() and Flush(), on the source thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kafka/producer.h"
#include "ingest/record_output.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

class TopicProducer final : public RecordOutput {
 public:
  // `what` names the records in log lines ("dead letters", "rekeyed events").
  static absl::StatusOr<std::unique_ptr<TopicProducer>> Create(
      std::string what, const std::string& brokers, const std::string& topic,
      const KafkaProperties& properties = {});
  ~TopicProducer() override;

  void Publish(KafkaRecord record, const std::shared_ptr<DeliveryTicket>& ticket) override;
  bool Saturated() const override;
  void Poll() override;
  absl::Status Flush(absl::Duration timeout) override;
  size_t pending() const override { return in_flight_ + retry_.size(); }
  const std::map<int32_t, int64_t>& delivered_offsets() const override { return delivered_; }
  int Partitions(absl::Time now) override;
  absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& topic,
                                                  const std::vector<int32_t>& partitions,
                                                  absl::Duration timeout) override;
  const RecordOutputStats& stats() const override { return stats_; }

 private:
  // One record, kept by the producer until its delivery report says it is out.
  struct Letter {
    KafkaRecord record;
    std::shared_ptr<DeliveryTicket> ticket;  // may be null
  };

  TopicProducer(std::string what, std::string brokers, std::string topic,
                KafkaProperties properties)
      : what_(std::move(what)),
        brokers_(std::move(brokers)),
        topic_(std::move(topic)),
        properties_(std::move(properties)) {}
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  // Hands `letter` to librdkafka; false (the letter done and counted as dropped) if its queue
  // refused it.
  bool Produce(std::unique_ptr<Letter> letter);
  // Produces again what failed retryably, and replaces a producer that failed fatally.
  void Retry();

  std::string what_, brokers_, topic_;
  KafkaProperties properties_;
  KafkaClient rk_;
  std::vector<std::unique_ptr<Letter>> retry_;  // source thread only (reports arrive in Poll)
  size_t in_flight_ = 0;                        // produced, report not yet served; ditto
  std::map<int32_t, int64_t> delivered_;        // ditto
  int partitions_ = 0;                          // Partitions(), and when it asks again
  absl::Time partitions_asked_ = absl::InfinitePast();
  bool missing_logged_ = false;
  size_t held_bytes_ = 0;  // keys and values of the letters held; ditto
  RecordOutputStats stats_;
};

}  // namespace faultline

#include "ingest/kafka/dead_letter_producer.h"

#include "absl/strings/str_cat.h"
#include "core/kafka/producer.h"
#include "core/log.h"

namespace faultline {

absl::StatusOr<std::unique_ptr<DeadLetterProducer>> DeadLetterProducer::Create(
    const std::string& brokers, const std::string& topic,
    const std::vector<std::pair<std::string, std::string>>& properties) {
  if (topic.empty()) return absl::InvalidArgumentError("dead-letter topic must not be empty");
  std::unique_ptr<DeadLetterProducer> p(new DeadLetterProducer(topic));
  // A little more batching than the default: dead letters are not latency-sensitive.
  std::vector<std::pair<std::string, std::string>> all = {{"linger.ms", "50"}};
  all.insert(all.end(), properties.begin(), properties.end());
  absl::StatusOr<rd_kafka_t*> rk =
      NewKafkaProducer(brokers, all, &DeadLetterProducer::OnDelivery, p.get());
  if (!rk.ok()) {
    return absl::Status(rk.status().code(), absl::StrCat("dead-letter ", rk.status().message()));
  }
  p->rk_ = *rk;
  return p;
}

DeadLetterProducer::~DeadLetterProducer() {
  if (rk_ == nullptr) return;
  if (!Flush(absl::Seconds(10)).ok()) {
    LogWarning(absl::StrCat("dead letters: ", rd_kafka_outq_len(rk_),
                            " message(s) not delivered at shutdown"));
  }
  rd_kafka_destroy(rk_);
}

void DeadLetterProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<DeadLetterProducer*>(opaque);
  // The ticket travels with the message: the source may have let go of it (a revoked
  // partition), so the message owns a reference until its report.
  if (auto* ticket = static_cast<std::shared_ptr<DeliveryTicket>*>(m->_private)) {
    (*ticket)->Done();
    delete ticket;
  }
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Logged for the first few only: a broken dead-letter topic must not flood the log.
  if (self->stats_.failed.fetch_add(1, std::memory_order_relaxed) < 5) {
    LogError(absl::StrCat("dead letter to ", self->topic_, " failed: ", rd_kafka_err2str(m->err)));
  }
}

void DeadLetterProducer::Publish(const Message& message, ParseError reason,
                                 const std::shared_ptr<DeliveryTicket>& ticket) {
  const std::string partition = std::to_string(message.origin.partition);
  const std::string offset = std::to_string(message.origin.offset);
  const std::string_view reason_name = ParseErrorName(reason);
  rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
  rd_kafka_header_add(headers, "faultline.reason", -1, reason_name.data(),
                      static_cast<ssize_t>(reason_name.size()));
  rd_kafka_header_add(headers, "faultline.source.topic", -1, message.topic.data(),
                      static_cast<ssize_t>(message.topic.size()));
  rd_kafka_header_add(headers, "faultline.source.partition", -1, partition.data(),
                      static_cast<ssize_t>(partition.size()));
  rd_kafka_header_add(headers, "faultline.source.offset", -1, offset.data(),
                      static_cast<ssize_t>(offset.size()));
  auto* held = ticket ? new std::shared_ptr<DeliveryTicket>(ticket) : nullptr;
  if (ticket) ticket->Expect(1);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_KEY(message.key.data(), message.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(message.payload.data()), message.payload.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
      RD_KAFKA_V_OPAQUE(held), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);  // ownership passes to librdkafka only on success
    if (held != nullptr) {
      (*held)->Done();
      delete held;
    }
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_.queued.fetch_add(1, std::memory_order_relaxed);
  }
  rd_kafka_poll(rk_, 0);  // serve delivery reports without blocking
}

void DeadLetterProducer::Poll() { rd_kafka_poll(rk_, 0); }

absl::Status DeadLetterProducer::Flush(absl::Duration timeout) {
  const rd_kafka_resp_err_t err =
      rd_kafka_flush(rk_, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::DeadlineExceededError(absl::StrCat("dead letters: ", rd_kafka_outq_len(rk_),
                                                    " message(s) still queued after ",
                                                    absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

}  // namespace faultline

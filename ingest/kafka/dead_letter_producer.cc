#include "ingest/kafka/dead_letter_producer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace faultline {
namespace {

// Dead letters on their way beyond which the pipeline reports itself saturated: the source
// pauses instead of piling up rejects while the dead-letter topic is unreachable.
constexpr size_t kMaxInFlight = 10000;

KafkaProperties WithDefaults(const KafkaProperties& properties) {
  // A little more batching than the default: dead letters are not latency-sensitive.
  KafkaProperties all = {{"linger.ms", "50"}};
  all.insert(all.end(), properties.begin(), properties.end());
  return all;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DeadLetterProducer>> DeadLetterProducer::Create(
    const std::string& brokers, const std::string& topic, const KafkaProperties& properties) {
  if (topic.empty()) return absl::InvalidArgumentError("dead-letter topic must not be empty");
  std::unique_ptr<DeadLetterProducer> p(
      new DeadLetterProducer(brokers, topic, WithDefaults(properties)));
  absl::StatusOr<KafkaClient> rk =
      NewKafkaProducer(brokers, p->properties_, &DeadLetterProducer::OnDelivery, p.get());
  if (!rk.ok()) {
    return absl::Status(rk.status().code(), absl::StrCat("dead-letter ", rk.status().message()));
  }
  p->rk_ = *std::move(rk);
  return p;
}

DeadLetterProducer::~DeadLetterProducer() {
  if (rk_ == nullptr) return;
  // Flush() had its chance (Pipeline::Drain); what is left is not committed either, so it is read
  // and rejected again at the next start. Purged, its reports free the letters.
  const size_t left = rd_kafka_outq_len(rk_.get()) + retry_.size();
  if (left > 0) LogWarning(absl::StrCat("dead letters: ", left, " not delivered at shutdown"));
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_.get(), 1000);
  rk_.reset();  // before retry_ and the stats its reports would touch
}

void DeadLetterProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<DeadLetterProducer*>(opaque);
  // The letter (and its ticket) travels with the message: the source may have let go of the
  // ticket meanwhile (a revoked partition).
  std::unique_ptr<Letter> letter(static_cast<Letter*>(m->_private));
  --self->in_flight_;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    if (letter->ticket) letter->ticket->Done();
    return;
  }
  if (!IsPermanentProduceError(m->err)) {
    self->stats_.retried.fetch_add(1, std::memory_order_relaxed);
    self->retry_.push_back(std::move(letter));  // produced again by Retry(), after this report
    return;
  }
  // Logged for the first few only: a broken dead-letter topic must not flood the log.
  if (self->stats_.failed.fetch_add(1, std::memory_order_relaxed) < 5) {
    LogError(absl::StrCat("dead letter to ", self->topic_, " refused: ", rd_kafka_err2str(m->err)));
  }
  if (letter->ticket) letter->ticket->Done();
}

bool DeadLetterProducer::Produce(std::unique_ptr<Letter> letter) {
  KafkaPtr<rd_kafka_headers_t> headers(rd_kafka_headers_new(letter->headers.size()));
  for (const auto& [name, value] : letter->headers) {
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  Letter* raw = letter.get();
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_KEY(raw->key.data(), raw->key.size()),
      RD_KAFKA_V_VALUE(raw->value.data(), raw->value.size()), RD_KAFKA_V_HEADERS(headers.get()),
      RD_KAFKA_V_OPAQUE(raw), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    if (raw->ticket) raw->ticket->Done();
    return false;
  }
  static_cast<void>(headers.release());  // librdkafka owns them once the message is queued
  static_cast<void>(letter.release());   // the message owns it until its delivery report
  ++in_flight_;
  return true;
}

void DeadLetterProducer::Publish(const Message& message, ParseError reason,
                                 const std::shared_ptr<DeliveryTicket>& ticket) {
  auto letter = std::make_unique<Letter>(
      Letter{.key = std::string(message.key),
             .value = std::string(message.payload),
             .headers = {{"faultline.reason", std::string(ParseErrorName(reason))},
                         {"faultline.source.topic", std::string(message.topic)},
                         {"faultline.source.partition", std::to_string(message.origin.partition)},
                         {"faultline.source.offset", std::to_string(message.origin.offset)}},
             .ticket = ticket});
  if (ticket) ticket->Expect(1);
  if (Produce(std::move(letter))) stats_.queued.fetch_add(1, std::memory_order_relaxed);
  rd_kafka_poll(rk_.get(), 0);  // serve delivery reports without blocking
  Retry();
}

bool DeadLetterProducer::Saturated() const {
  // Asked before every message: a counter, not rd_kafka_outq_len (which takes a queue lock).
  return in_flight_ + retry_.size() >= kMaxInFlight;
}

void DeadLetterProducer::Retry() {
  char reason[512];
  if (rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // An idempotent producer that failed fatally refuses everything from then on: purge it
    // (its letters come back through their reports, as retryable) and start a new one.
    LogError(absl::StrCat("dead letters: the producer failed for good (", reason,
                          "); starting a new one"));
    absl::StatusOr<KafkaClient> fresh =
        NewKafkaProducer(brokers_, properties_, &DeadLetterProducer::OnDelivery, this);
    if (fresh.ok()) {
      KafkaClient old = std::exchange(rk_, *std::move(fresh));
      rd_kafka_purge(old.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(old.get(), 5000);  // serves the purged letters' reports: into retry_
    }
  }
  std::vector<std::unique_ptr<Letter>> again;
  again.swap(retry_);
  for (auto& letter : again) Produce(std::move(letter));
}

void DeadLetterProducer::Poll() {
  rd_kafka_poll(rk_.get(), 0);
  Retry();
}

absl::Status DeadLetterProducer::Flush(absl::Duration timeout) {
  // Flushing serves reports, which may ask for a retry: loop until nothing is left.
  constexpr absl::Duration kStep = absl::Milliseconds(100);
  for (absl::Duration waited; waited <= timeout; waited += kStep) {
    rd_kafka_flush(rk_.get(), static_cast<int>(absl::ToInt64Milliseconds(kStep)));
    Retry();
    if (rd_kafka_outq_len(rk_.get()) == 0 && retry_.empty()) return absl::OkStatus();
  }
  return absl::DeadlineExceededError(
      absl::StrCat("dead letters: ", rd_kafka_outq_len(rk_.get()) + retry_.size(),
                   " message(s) still queued after ", absl::FormatDuration(timeout)));
}

}  // namespace faultline

#include "ingest/kafka/topic_producer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace faultline {
namespace {

// Records on their way (or their bytes) beyond which the pipeline reports itself saturated: the
// source pauses instead of piling up records while their topic is unreachable. The count allows
// a second of the rekey role's rate; the bytes bound dead letters of large messages.
constexpr size_t kMaxInFlight = 100000;
constexpr size_t kMaxHeldBytes = size_t{64} << 20;

size_t Bytes(const KafkaRecord& r) { return r.key.size() + r.value.size(); }

KafkaProperties WithDefaults(const KafkaProperties& properties) {
  // A little more batching than the default: these records are not latency-sensitive. Keys are
  // spread over partitions as the Java producer (and so Kafka Streams) spreads them.
  KafkaProperties all = {{"linger.ms", "50"}, {"partitioner", "murmur2_random"}};
  all.insert(all.end(), properties.begin(), properties.end());
  return all;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TopicProducer>> TopicProducer::Create(
    std::string what, const std::string& brokers, const std::string& topic,
    const KafkaProperties& properties) {
  if (topic.empty()) return absl::InvalidArgumentError("the topic must not be empty");
  std::unique_ptr<TopicProducer> p(
      new TopicProducer(std::move(what), brokers, topic, WithDefaults(properties)));
  absl::StatusOr<KafkaClient> rk =
      NewKafkaProducer(brokers, p->properties_, &TopicProducer::OnDelivery, p.get());
  if (!rk.ok()) return rk.status();
  p->rk_ = *std::move(rk);
  return p;
}

TopicProducer::~TopicProducer() {
  if (rk_ == nullptr) return;
  // Flush() had its chance (Pipeline::Drain); what is left is not committed either, so its
  // message is read again at the next start. Purged, its reports free the letters.
  const size_t left = rd_kafka_outq_len(rk_.get()) + retry_.size();
  if (left > 0) LogWarning(absl::StrCat(what_, ": ", left, " not delivered at shutdown"));
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_.get(), 1000);
  rk_.reset();  // before retry_ and the stats its reports would touch
}

void TopicProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<TopicProducer*>(opaque);
  // The letter (and its ticket) travels with the message: the source may have let go of the
  // ticket meanwhile (a revoked partition).
  std::unique_ptr<Letter> letter(static_cast<Letter*>(m->_private));
  --self->in_flight_;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    int64_t& last = self->delivered_[m->partition];
    last = std::max(last, m->offset);
    self->held_bytes_ -= Bytes(letter->record);
    self->stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    if (letter->ticket) letter->ticket->Done();
    return;
  }
  if (!IsPermanentProduceError(m->err)) {
    self->stats_.retried.fetch_add(1, std::memory_order_relaxed);
    self->retry_.push_back(std::move(letter));  // produced again by Retry(), after this report
    return;
  }
  // Logged for the first few only: a broken topic must not flood the log.
  if (self->stats_.failed.fetch_add(1, std::memory_order_relaxed) < 5) {
    LogError(absl::StrCat(self->what_, ": a record to ", self->topic_,
                          " refused: ", rd_kafka_err2str(m->err)));
  }
  self->held_bytes_ -= Bytes(letter->record);
  if (letter->ticket) letter->ticket->Done();
}

bool TopicProducer::Produce(std::unique_ptr<Letter> letter) {
  KafkaRecord& r = letter->record;
  KafkaPtr<rd_kafka_headers_t> headers(rd_kafka_headers_new(r.headers.size()));
  for (const auto& [name, value] : r.headers) {
    rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  // The record keeps its message's time (0: the producer's clock at send).
  const int64_t timestamp_ms =
      r.timestamp == absl::InfinitePast() ? 0 : absl::ToUnixMillis(r.timestamp);
  Letter* raw = letter.get();
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
      RD_KAFKA_V_PARTITION(r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition),
      RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(r.value.data(), r.value.size()),
      RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(raw),
      RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    // librdkafka's queue is full: kept and produced again at the next poll (meanwhile
    // Saturated() pauses the source), never done without being delivered.
    stats_.retried.fetch_add(1, std::memory_order_relaxed);
    retry_.push_back(std::move(letter));
    return false;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    held_bytes_ -= Bytes(r);
    if (raw->ticket) raw->ticket->Done();
    return false;
  }
  static_cast<void>(headers.release());  // librdkafka owns them once the message is queued
  static_cast<void>(letter.release());   // the message owns it until its delivery report
  ++in_flight_;
  return true;
}

void TopicProducer::Publish(KafkaRecord record, const std::shared_ptr<DeliveryTicket>& ticket) {
  held_bytes_ += Bytes(record);
  auto letter = std::make_unique<Letter>(Letter{.record = std::move(record), .ticket = ticket});
  if (ticket) ticket->Expect(1);
  // Behind the records waiting for a retry, never ahead of them: a partition's records stay in
  // the order they were published (a pool topic heartbeat must not overtake a failure).
  if (retry_.empty()) {
    Produce(std::move(letter));
  } else {
    retry_.push_back(std::move(letter));
  }
  rd_kafka_poll(rk_.get(), 0);  // serve delivery reports without blocking
  Retry();
}

bool TopicProducer::Saturated() const {
  // Asked before every message: a counter, not rd_kafka_outq_len (which takes a queue lock).
  return in_flight_ + retry_.size() >= kMaxInFlight || held_bytes_ >= kMaxHeldBytes;
}

void TopicProducer::Retry() {
  char reason[512];
  if (rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // An idempotent producer that failed fatally refuses everything from then on: purge it
    // (its letters come back through their reports, as retryable) and start a new one.
    LogError(
        absl::StrCat(what_, ": the producer failed for good (", reason, "); starting a new one"));
    absl::StatusOr<KafkaClient> fresh =
        NewKafkaProducer(brokers_, properties_, &TopicProducer::OnDelivery, this);
    if (fresh.ok()) {
      KafkaClient old = std::exchange(rk_, *std::move(fresh));
      rd_kafka_purge(old.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(old.get(), 5000);  // serves the purged letters' reports: into retry_
    }
  }
  std::vector<std::unique_ptr<Letter>> again;
  again.swap(retry_);
  for (auto& letter : again) {
    // Once one is sent back (the queue full again), the rest wait behind it, in order.
    if (!retry_.empty()) {
      retry_.push_back(std::move(letter));
    } else {
      Produce(std::move(letter));
    }
  }
}

int TopicProducer::Partitions(absl::Time now) {
  // Topics gain partitions: asked again every minute (every 5 s until known).
  if (now - partitions_asked_ < (partitions_ > 0 ? absl::Minutes(1) : absl::Seconds(5))) {
    return partitions_;
  }
  partitions_asked_ = now;
  KafkaPtr<rd_kafka_topic_t> topic(rd_kafka_topic_new(rk_.get(), topic_.c_str(), nullptr));
  const KafkaMetadata metadata = FetchTopicMetadata(rk_.get(), topic.get(), 1000);
  if (metadata != nullptr && metadata->topic_cnt == 1) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[0];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      partitions_ = t.partition_cnt;
    } else if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && !missing_logged_) {
      missing_logged_ = true;
      LogError(absl::StrCat(what_, ": the topic ", topic_,
                            " does not exist: create it (records wait for it meanwhile)"));
    }
  }
  return partitions_;
}

absl::StatusOr<std::vector<int64_t>> TopicProducer::EndOffsets(
    const std::string& topic, const std::vector<int32_t>& partitions, absl::Duration timeout) {
  KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (int32_t p : partitions) {
    // ListOffsets of the time "latest" (-1): the partition's end.
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
      rk_.get(), list.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("the end offsets of ", topic, ": ", rd_kafka_err2str(err)));
  }
  std::vector<int64_t> ends;
  ends.reserve(partitions.size());
  for (int32_t p : partitions) {
    const rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_find(list.get(), topic.c_str(), p);
    if (tp == nullptr || tp->err != RD_KAFKA_RESP_ERR_NO_ERROR || tp->offset < 0) {
      return absl::UnavailableError(absl::StrCat(
          "the end offset of ", topic, "[", p,
          "]: ", rd_kafka_err2str(tp ? tp->err : RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)));
    }
    ends.push_back(tp->offset);
  }
  return ends;
}

void TopicProducer::Poll() {
  rd_kafka_poll(rk_.get(), 0);
  Retry();
}

absl::Status TopicProducer::Flush(absl::Duration timeout) {
  // Flushing serves reports, which may ask for a retry: loop until nothing is left.
  constexpr absl::Duration kStep = absl::Milliseconds(100);
  for (absl::Duration waited; waited <= timeout; waited += kStep) {
    rd_kafka_flush(rk_.get(), static_cast<int>(absl::ToInt64Milliseconds(kStep)));
    Retry();
    if (rd_kafka_outq_len(rk_.get()) == 0 && retry_.empty()) return absl::OkStatus();
  }
  return absl::DeadlineExceededError(
      absl::StrCat(what_, ": ", rd_kafka_outq_len(rk_.get()) + retry_.size(),
                   " message(s) still queued after ", absl::FormatDuration(timeout)));
}

}  // namespace faultline

// Where the pipeline sends Kafka records that are not alerts, each holding its message's
// DeliveryTicket until it is out: the dead letters of rejected messages (nothing is silently
// lost), and in the rekey role every parsed event (the internal topic keyed by host). The
// implementation is kafka/topic_producer.h.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/delivery.h"
#include "core/kafka/producer.h"
#include "ingest/parse/parse_error.h"
#include "ingest/source.h"

namespace faultline {

// Written by librdkafka's delivery reports and the source thread, read by metrics.
struct RecordOutputStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};   // refused for good by the broker (too large, forbidden)
  std::atomic<uint64_t> retried{0};  // produced again after a failure a retry can fix
  std::atomic<uint64_t> dropped{0};  // refused by the local producer (not queue-full: retried)
};

class RecordOutput {
 public:
  virtual ~RecordOutput() = default;
  // Queues one record; `ticket` (may be null) expects one delivery and is done once the record
  // is delivered (or refused for good, counted). Called on the source thread: never blocks; when
  // the producer's queue is full the record is kept and produced again (Saturated() meanwhile).
  virtual void Publish(KafkaRecord record, const std::shared_ptr<DeliveryTicket>& ticket) = 0;
  // True while so many records are on their way that the source should pause.
  virtual bool Saturated() const = 0;
  // Serves delivery reports without blocking; the source thread calls it about once a second.
  virtual void Poll() = 0;
  // Waits until everything queued is delivered, or `timeout` passes (kDeadlineExceeded).
  virtual absl::Status Flush(absl::Duration timeout) = 0;
  // Records published and not yet delivered or refused, as of the last Poll.
  virtual size_t pending() const = 0;
  // The offset of the last record delivered to each partition (from the delivery reports served
  // so far): a member reading the topic back knows when it has read all it wrote.
  virtual const std::map<int32_t, int64_t>& delivered_offsets() const = 0;
  // The topic's partition count (0: not known yet: the broker unreachable, the topic missing).
  // Asks the broker, blocking up to a second, at most once a minute (every 5 s while unknown) by
  // `now`: source thread.
  virtual int Partitions(absl::Time now) = 0;
  // The end offsets (the offset each one's next record will have) of `partitions` of `topic`,
  // any topic of the cluster, asked of the broker in one round within `timeout`: on the
  // producer's connections, where no fetch holds a request back. Source thread.
  virtual absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& topic,
                                                          const std::vector<int32_t>& partitions,
                                                          absl::Duration timeout) = 0;
  virtual const RecordOutputStats& stats() const = 0;
};

// The dead letter of a rejected message: value = the original bytes, key = the original key,
// headers faultline.reason, faultline.source.topic, faultline.source.partition,
// faultline.source.offset.
inline KafkaRecord DeadLetter(const Message& message, ParseError reason) {
  return {.key = std::string(message.key),
          .value = std::string(message.payload),
          .headers = {{"faultline.reason", std::string(ParseErrorName(reason))},
                      {"faultline.source.topic", std::string(message.topic)},
                      {"faultline.source.partition", std::to_string(message.origin.partition)},
                      {"faultline.source.offset", std::to_string(message.origin.offset)}}};
}

}  // namespace faultline

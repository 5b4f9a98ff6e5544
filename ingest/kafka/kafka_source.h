// A member of a Kafka consumer group (librdkafka high-level consumer, C API: the C++ wrapper
// allocates per message). One thread calls Run(): rd_kafka_consumer_poll -> handler -> offset
// tracker; commits on a timer, on partition revocation and on shutdown. Offsets are committed
// only for messages the handler has returned from and whose deliveries (the ticket OnMessage
// returned) are done (at-least-once). While the handler is saturated, every assigned partition
// is paused (back-pressure) and the loop keeps polling, so the member stays in the group.
//
// librdkafka 2.0.2 (Debian 12): rd_kafka_consumer_poll, not batch consume (races with
// rebalances before 2.1.0). The pre-fetch queue depends on the librdkafka the process runs with
// (FetchDefaults). See ../shared/docs/kafka-notes.md.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/kafka/handles.h"
#include "core/settings.h"
#include "ingest/kafka/offset_tracker.h"
#include "ingest/source.h"
#include "librdkafka/rdkafka.h"

namespace faultline {

struct KafkaSourceConfig {
  std::string brokers;  // bootstrap.servers
  std::vector<std::string> topics;
  std::string group_id = "faultline";
  std::string group_instance_id;  // static membership: no rebalance on a quick restart
  std::string client_id = "faultline";
  std::string auto_offset_reset = "earliest";
  absl::Duration commit_interval = absl::Seconds(5);
  absl::Duration poll_timeout = absl::Milliseconds(100);
  // The pre-fetch queue (queued.max.messages.kbytes); 0: FetchDefaults of the running librdkafka.
  int queued_max_messages_kbytes = 0;
  // Stop once every assigned partition has reached its end (demo, tests, backfills).
  bool stop_at_end = false;
  // Extra librdkafka properties, applied last (security.protocol, sasl.*, ...).
  std::vector<std::pair<std::string, std::string>> properties;

  // The `kafka:` section (poll_timeout and stop_at_end are set by the commands, not the file).
  static const settings::Schema<KafkaSourceConfig>& Schema();
};

// How the consumer pre-fetches, chosen by the librdkafka version the process runs with
// (rd_kafka_version(), not the headers it was built against: a container or a host upgrade can
// change it under the same binary). librdkafka before 2.3 stops fetching a partition for about a
// second once its pre-fetch queue is full, so a consumer slower than the fetcher waits: there the
// queue must hold more than a second of traffic (64 MiB). From 2.3 `fetch.queue.backoff.ms`
// shortens that back-off (its default, 1000 ms, is the same stall), and a small queue (16 MiB,
// queued.min.messages 20000) suffices.
// Measured effect in BENCHMARKS.md ("librdkafka 2.0.2 and 2.8.0").
struct FetchDefaults {
  int queued_max_messages_kbytes = 0;
  std::vector<std::pair<std::string, std::string>> properties;  // applied before the user's
  static FetchDefaults For(int rd_kafka_version);
  // What `config` gets on that librdkafka: queued.max.messages.kbytes (kafka's own key, or the
  // default) and the defaults' properties, each overridden by kafka.properties of the same name.
  static std::vector<std::pair<std::string, std::string>> Effective(const KafkaSourceConfig& config,
                                                                    int rd_kafka_version);
};

class KafkaSource final : public Source {
 public:
  // Written by the consumer thread, read by others (metrics, progress).
  struct Stats {
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> consumer_errors{0};  // errors delivered as messages (not partition EOF)
    std::atomic<uint64_t> commits{0};
    std::atomic<uint64_t> commit_failures{0};
    std::atomic<uint64_t> rebalances{0};
    std::atomic<uint64_t> pauses{0};  // times back-pressure paused consumption
    std::atomic<bool> paused{false};
    std::atomic<bool> joined{false};  // a first assignment arrived (possibly empty)
  };
  // One assigned partition, as of the last second.
  struct PartitionStats {
    std::string topic;
    int32_t partition = 0;
    int64_t processed = -1;       // the offset after the last processed message
    int64_t committed = -1;       // the last commit position handed to the broker
    int64_t high_watermark = -1;  // the broker's end of the partition, as last fetched
    size_t in_flight = 0;         // processed messages whose alerts are still being delivered
  };

  // Validates the configuration with librdkafka (every property error at once) and subscribes.
  // Connects lazily: an unreachable broker is not an error here.
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Create(const KafkaSourceConfig& config,
                                                             Clock& clock);
  // The same validation as Create, creating nothing (faultline check-config).
  static absl::Status Validate(const KafkaSourceConfig& config);
  ~KafkaSource() override;

  absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) override;
  const Stats& stats() const { return stats_; }
  // A snapshot refreshed about once a second by the consumer thread; any thread.
  std::vector<PartitionStats> partitions() const;

 private:
  KafkaSource(KafkaSourceConfig config, Clock& clock);
  // A librdkafka configuration from `config`, or every problem found (the conf is then null).
  static KafkaConf BuildConf(const KafkaSourceConfig& config, std::vector<std::string>* errors);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* parts, void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  // Commits what the tracker says changed; `sync` blocks until the broker answered.
  void CommitProcessed(bool sync);
  bool AllAssignedAtEnd() const;
  // Pauses or resumes every assigned partition (back-pressure).
  void SetPaused(bool paused);
  // Refreshes partitions() from the tracker and librdkafka's cached watermarks.
  void PublishPartitionStats();

  struct PartitionState {
    std::string topic;
    int32_t partition;
    bool at_end;
  };

  KafkaSourceConfig config_;
  Clock& clock_;
  KafkaClient rk_;
  OffsetTracker offsets_;
  std::vector<PartitionState> assigned_;
  Stats stats_;
  bool closed_ = false;
  bool paused_ = false;
  MessageHandler* handler_ = nullptr;  // while Run runs: told of assignments and ends
  mutable std::mutex partitions_mu_;
  std::vector<PartitionStats> partitions_;  // guarded by partitions_mu_
};

}  // namespace faultline

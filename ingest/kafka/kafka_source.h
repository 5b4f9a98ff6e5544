// A member of a Kafka consumer group (librdkafka high-level consumer, C API: the C++ wrapper
// allocates per message). One thread calls Run(): rd_kafka_consumer_poll -> handler -> offset
// tracker; commits on a timer, on partition revocation and on shutdown. Offsets are committed
// only for messages the handler has returned from and whose deliveries (the ticket OnMessage
// returned) are done (at-least-once). While the handler is saturated, every assigned partition
// is paused (back-pressure) and the loop keeps polling, so the member stays in the group.
//
// librdkafka 2.0.2 (Debian 12): rd_kafka_consumer_poll, not batch consume (races with
// rebalances before 2.1.0). The pre-fetch queue depends on the librdkafka the process runs with
// (ConsumerDefaults). See ../shared/docs/kafka-notes.md.
#pragma once

#include <atomic>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
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
  // The pre-fetch queue (queued.max.messages.kbytes); 0: ConsumerDefaults of the running
  // librdkafka.
  int queued_max_messages_kbytes = 0;
  // Stop once every assigned partition has reached its end (demo, tests, backfills).
  bool stop_at_end = false;
  // With stop_at_end: topics the group must have committed to their end before a member stops:
  // the pool topic, which the group writes itself and reads back, so a record another member
  // wrote to a partition this one holds is never left unread.
  std::vector<std::string> group_end_topics;
  // 0: messages are handed over as librdkafka fetches them (in order within each partition).
  // More: in Kafka-timestamp order across the assigned partitions, as Kafka Streams merges a
  // task's partitions: a partition with nothing buffered is waited for while the broker holds
  // more of it, and for at most this long (max.task.idle.ms) when it seems idle, never at its
  // end. The rekey role sets it: a host's events spread
  // over an unkeyed topic's partitions come out in the order their forwarder sent them.
  absl::Duration merge_wait = absl::ZeroDuration();
  // More than 0: a newly assigned partition with a committed position is read again from this
  // far (in Kafka time) before it, its messages handed over as `replayed`, so the detectors'
  // windows are whole again after a restart or a rebalance. The service sets it to the longest
  // detector window plus the allowed lateness plus restore_batching. The position's time
  // travels as commit metadata; it is moved back to the first event of an incident still open
  // (MessageHandler::RestoreFrom), at most kMaxRestoreLookback before the position's own time.
  absl::Duration restore_span = absl::ZeroDuration();
  static constexpr absl::Duration kMaxRestoreLookback = absl::Hours(6);
  // How much further back a restore reads: a host's events a window apart in event time reach
  // Kafka further apart when its forwarder batches them (a WEF subscription: 15 minutes).
  absl::Duration restore_batching = absl::Minutes(30);
  // Extra librdkafka properties, applied last (security.protocol, sasl.*, ...).
  std::vector<std::pair<std::string, std::string>> properties;
  // `run`'s worker threads, each a member of the group with its own consumer, parser and engine
  // (Kafka Streams' num.stream.threads); 0: one per core. Read by the service, not the source.
  int workers = 0;
  static constexpr int kMaxWorkers = 64;

  // The `kafka:` section (poll_timeout, stop_at_end and merge_wait are set by the commands, not
  // the file).
  static const settings::Schema<KafkaSourceConfig>& Schema();
};

// How the consumer pre-fetches, chosen by the librdkafka version the process runs with
// (rd_kafka_version(), not the headers it was built against: a container or a host upgrade can
// change it under the same binary). librdkafka before 2.3 stops fetching a partition for about a
// second once its pre-fetch queue is full, so a consumer slower than the fetcher waits: there the
// queue must hold more than a second of traffic (64 MiB). From 2.3 `fetch.queue.backoff.ms`
// shortens that back-off (its default, 1000 ms, is the same stall), and a small queue (16 MiB,
// queued.min.messages 20000) suffices. The assignment protocol is not chosen by version: every
// member of a group must offer the same one (librdkafka cannot offer eager and cooperative
// together), and a fleet mixes platforms (Debian 12 hosts, Debian 13 containers). So eager
// (librdkafka's default) unless kafka.properties sets partition.assignment.strategy:
// cooperative-sticky, which the source handles (incremental assign and unassign; tested on both
// platforms, see ARCHITECTURE.md).
// Measured effect in BENCHMARKS.md ("librdkafka 2.0.2 and 2.8.0").
struct ConsumerDefaults {
  int queued_max_messages_kbytes = 0;
  std::vector<std::pair<std::string, std::string>> properties;  // applied before the user's
  static ConsumerDefaults For(int rd_kafka_version);
  // What `config` gets on that librdkafka: queued.max.messages.kbytes (kafka's own key, or the
  // default) and the defaults' properties, each overridden by kafka.properties of the same name.
  static std::vector<std::pair<std::string, std::string>> Effective(const KafkaSourceConfig& config,
                                                                    int rd_kafka_version);
};

// The consumers of one process's workers (kafka.workers), stopping at their end together: one
// that left alone would hand its partitions to the others (a rebalance and a restore just before
// they end too). Each says whether it is at its end and settled; the first to see them all so
// (and the group's end topics committed) ends the run for every one.
class SharedEnd {
 public:
  explicit SharedEnd(size_t members) : ready_(members) {}
  void Set(size_t member, bool ready) { ready_[member].store(ready); }
  bool AllReady() const {
    for (const std::atomic<bool>& r : ready_) {
      if (!r.load()) return false;
    }
    return true;
  }
  void Finish() { done_.store(true); }
  bool done() const { return done_.load(); }

 private:
  std::vector<std::atomic<bool>> ready_;
  std::atomic<bool> done_{false};
};

// Whether an error librdkafka reports (its error callback) means the broker refused this
// client's credentials or the client refused the broker's certificate: a SASL authentication
// failure, a failed certificate verification, or (TLS 1.3, where the client's handshake ends
// before the broker checks the client certificate) a TLS alert received on the first request;
// not a handshake cut short by a broker restarting. librdkafka
// retries these forever; a member that never joined its group stops on one (KafkaSource::Run).
bool IsAuthenticationFailure(rd_kafka_resp_err_t err, std::string_view reason);

class KafkaSource final : public Source {
 public:
  // Written by the consumer thread, read by others (metrics, progress).
  struct Stats {
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> consumer_errors{0};  // errors delivered as messages (not partition EOF)
    std::atomic<uint64_t> commits{0};
    std::atomic<uint64_t> commit_failures{0};
    std::atomic<uint64_t> rebalances{0};
    std::atomic<uint64_t> pauses{0};    // times back-pressure paused consumption
    std::atomic<uint64_t> restores{0};  // partitions read again from before their commit
    std::atomic<uint64_t> replayed{0};  // messages read again for that
    // Assignments whose restore may lack records: the partition's log starts within the span
    // (deleted), up to its whole log (then no restore is made, and this alone counts it).
    std::atomic<uint64_t> restores_cut{0};
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
  // The same validation as Create, creating nothing (faultline check-config): each problem added
  // to `problems` at its key (kafka.brokers, kafka.topics, kafka.properties).
  static void Validate(const KafkaSourceConfig& config, settings::Problems& problems);
  static absl::Status Validate(const KafkaSourceConfig& config);
  ~KafkaSource() override;

  absl::Status Run(MessageHandler& handler, const std::atomic<bool>& stop) override;
  // With stop_at_end: this consumer is `member` of `end`, and stops when they all do. Before Run.
  void StopTogether(std::shared_ptr<SharedEnd> end, size_t member) {
    together_ = std::move(end);
    member_ = member;
  }
  const Stats& stats() const { return stats_; }
  // A snapshot refreshed about once a second by the consumer thread; any thread.
  std::vector<PartitionStats> partitions() const;

 private:
  struct PartitionState;
  KafkaSource(KafkaSourceConfig config, Clock& clock);
  // A librdkafka configuration from `config`, or every property librdkafka refused (the conf is
  // then null). What `run` needs besides (brokers, topics) is Validate's.
  static KafkaConf BuildConf(const KafkaSourceConfig& config, std::vector<std::string>* errors);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* parts, void* opaque);
  // librdkafka's error callback (on the consumer thread, inside rd_kafka_consumer_poll).
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  // Commits what the tracker says changed; `sync` blocks until the broker answered.
  void CommitProcessed(bool sync);
  bool AllAssignedAtEnd() const;
  // stop_at_end: asks the broker for the end of each assigned partition not yet confirmed and
  // clears at_end where more is there than was read (an end event can be stale: librdkafka's
  // fetcher queues it and the partition may have grown since). False when the broker did not
  // answer, was asked less than a second ago, or a partition is not at its end. A confirmation
  // holds for kEndConfirmedFor.
  static constexpr absl::Duration kEndConfirmedFor = absl::Seconds(1);
  bool ConfirmEnds();
  // Whether the group has committed every partition of group_end_topics to its end (asks the
  // broker: at most once a second).
  bool GroupEndTopicsDone();
  // stop_at_end: whether Run stops now.
  bool AtEnd(MessageHandler& handler);
  // Hands one fetched message to the handler and records it as processed.
  void Deliver(MessageHandler& handler, const rd_kafka_message_t* m, PartitionState* p);
  // restore_span: moves each newly assigned partition of `parts` with a committed position back
  // by restore_span (the list's offsets, before it is assigned).
  void PlanRestore(rd_kafka_topic_partition_list_t* parts);
  // merge_wait: hands over buffered messages, the earliest Kafka timestamp first, while no
  // partition that may still deliver an earlier one is being waited for.
  void ReleaseMerged(MessageHandler& handler, absl::Time now);
  // merge_wait: whether the broker holds more of `p` than was fetched (or it was not fetched
  // yet), by librdkafka's cached high watermark.
  bool Lagging(const PartitionState& p) const;
  // Pauses or resumes every assigned partition (back-pressure).
  void SetPaused(bool paused);
  // Refreshes partitions() from the tracker and librdkafka's cached watermarks.
  void PublishPartitionStats();

  struct PartitionState {
    std::string topic;
    int32_t partition;
    bool at_end;
    // stop_at_end: when the broker, asked, said its end is where at_end says (real time).
    absl::Time end_confirmed = absl::InfinitePast();
    absl::Time last_fetch;      // merge_wait: when it last delivered (or was assigned)
    int64_t next_offset = -1;   // after the last message fetched, or where an end was reported
    int64_t replay_until = -1;  // restore_span: messages before it are read again
    absl::Time restore_started;
    std::deque<KafkaMessage> buffered;  // merge_wait: fetched, not yet handed over
  };
  PartitionState* Find(const char* topic, int32_t partition);

  KafkaSourceConfig config_;
  Clock& clock_;
  KafkaClient rk_;
  OffsetTracker offsets_;
  std::list<PartitionState> assigned_;  // a list: a buffer of messages cannot be copied
  size_t buffered_ = 0;                 // merge_wait: messages in the partitions' buffers
  int64_t now_ms_ = 0;    // the clock at the loop's last reading (not read per message)
  size_t restoring_ = 0;  // partitions whose replay has not reached their committed position
  absl::Time group_done_asked_ = absl::InfinitePast();
  absl::Time ends_asked_ = absl::InfinitePast();  // ConfirmEnds: when it last asked the broker
  absl::Time group_wait_logged_ = absl::InfinitePast();
  // GroupEndTopicsDone: the partition count of each of group_end_topics, and when it was asked.
  std::vector<int> partition_counts_;
  absl::Time partition_counts_asked_ = absl::InfinitePast();
  // What the last eager (not lost) revocation took: what the next assignment gives back is kept
  // (not restored, its state and its offsets' deliveries in memory) and read on from where it
  // was processed to (`next`; -1: from the commit); the rest is revoked for the handler then.
  struct Kept {
    std::string topic;
    int32_t partition = 0;
    int64_t next = -1;
  };
  std::vector<Kept> kept_;
  const Kept* FindKept(std::string_view topic, int32_t partition) const;
  Stats stats_;
  bool cooperative_ = false;  // the group's protocol at the last rebalance that named one
  bool closing_ = false;      // rd_kafka_consumer_close runs: an assignment is not ours any more
  bool closed_ = false;
  bool paused_ = false;
  MessageHandler* handler_ = nullptr;    // while Run runs: told of assignments and ends
  std::shared_ptr<SharedEnd> together_;  // StopTogether
  size_t member_ = 0;
  bool said_ready_ = false;   // the last thing told together_: at the end and settled
  bool rebalancing_ = false;  // revoked, and the assignment that follows not yet here
  // The first refusal of this client's credentials (IsAuthenticationFailure) before the group
  // gave it an assignment: Run ends with it.
  std::string auth_failure_;
  mutable std::mutex partitions_mu_;
  std::vector<PartitionStats> partitions_;  // guarded by partitions_mu_
};

}  // namespace faultline

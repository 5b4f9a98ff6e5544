// The per-message path, wired from the three stages: bytes -> EventParser -> Engine -> the
// Dispatcher's sink queues. It is the MessageHandler a Source drives, so it runs on the source's
// thread; OnMessage returns the ticket of the deliveries a message started (its alerts, its dead
// letter), and the source commits past the message once that ticket is done. A service runs one
// per worker (kafka.workers): each owns its parser, engines and counters, and all of them share
// one Dispatcher.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/clock.h"
#include "core/event_codec.h"
#include "core/histogram.h"
#include "detect/engine.h"
#include "ingest/parse/parser.h"
#include "ingest/record_output.h"
#include "ingest/source.h"
#include "sinks/dispatcher.h"

namespace faultline {

// Counters of one run. Written by the pipeline thread (the event counters without locked
// instructions: single writer); readable from other threads (progress reports, metrics).
struct RunStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> parsed{0};
  std::array<std::atomic<uint64_t>, kParseErrorCount> rejected_by_reason{};
  std::atomic<uint64_t> alerts{0};
  // A restore (kafka restore_span): messages read again to rebuild the detectors' windows, and
  // the alerts that rebuilt, not sent again (delivered before the commit).
  std::atomic<uint64_t> replayed{0};
  std::atomic<uint64_t> replay_alerts{0};
  std::atomic<uint64_t> restored_hosts{0};  // hosts first met in a replayed message
  // The pool topic (ingest.pool_topic): failures forwarded to it, and its records read (their
  // failures, and heartbeats that carry the input partitions' clocks).
  std::atomic<uint64_t> pool_forwarded{0};
  std::atomic<uint64_t> pool_records{0};
  std::atomic<uint64_t> pool_rejected{0};       // records of it that do not decode (dead-lettered)
  std::atomic<uint64_t> end_check_failures{0};  // Pipeline::CheckEnds could not ask the broker
  // Kafka timestamps further ahead of the wall clock than detect.max_clock_skew: a producer that
  // stamps records with a host's wrong clock (Winlogbeat stamps them with the event's own time);
  // the engine's arrival clock does not take them.
  std::atomic<uint64_t> broker_time_ahead{0};
  std::atomic<int64_t> last_tick_unix_ms{0};  // the source thread's last Tick: liveness

  // Per alert (rare), so a mutex is fine: by (rule, severity, status), active incidents by rule
  // (fired minus resolved), and how long after the event and the broker append it was raised.
  struct Alerts {
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_rule_severity_status;
    std::map<std::string, int64_t> active_by_rule;
  };
  mutable std::mutex mu;
  Alerts alerts_detail;  // guarded by mu
  LatencyHistogram event_to_alert;
  LatencyHistogram broker_to_alert;

  // The detectors' state and the engine's host clocks, as of the last Tick.
  struct DetectorState {
    std::string detector;
    size_t keys = 0;
    uint64_t evictions = 0;
  };
  std::vector<DetectorState> detectors;  // guarded by mu
  size_t hosts = 0;                      // guarded by mu
  uint64_t host_evictions = 0;           // guarded by mu

  uint64_t rejected() const;
};

class Pipeline final : public MessageHandler, private AlertOutput {
 public:
  // `dead_letters` may be null: rejects are then only counted. `drain_timeout` bounds how long
  // Drain() waits for the sinks.
  Pipeline(std::unique_ptr<EventParser> parser, std::unique_ptr<Engine> engine,
           std::shared_ptr<Dispatcher> dispatcher, size_t max_message_bytes,
           std::unique_ptr<RecordOutput> dead_letters, Clock& clock,
           absl::Duration drain_timeout = absl::Seconds(10));

  // The rekey role (`faultline rekey`): every parsed event goes to `events` as a
  // faultline.v1.Event keyed by host, with its message's Kafka timestamp, instead of to the
  // engine; its message is committed once the record is out. Before Start.
  void ForwardEventsTo(std::unique_ptr<RecordOutput> events) { rekeyed_ = std::move(events); }

  // ingest.pool_topic (a Kafka input with several instances): the detectors keyed by
  // application pool run in `pool_engine` on the records of `topic`, read in the same group;
  // the engine of the input holds a PoolForward connected to ForwardToPool, which publishes
  // their events there keyed by pool, each with its input partition and Kafka timestamp, and
  // once a second every input partition's clock to every partition of it (heartbeats: a pool's
  // incident resolves as the input's time passes, as it would in one engine). A message is
  // committed once its forwarded event is out. Before Start.
  // `input_topic`: the input whose partitions the heartbeats name (one: a lane is an input
  // partition number).
  void SplitPools(std::string topic, std::string input_topic, std::unique_ptr<Engine> pool_engine,
                  std::unique_ptr<RecordOutput> out);
  // PoolForward's forward: publishes `event`, being processed, to the pool topic.
  void ForwardToPool(const Event& event);
  // Null without SplitPools.
  const RecordOutput* pool_records() const { return pool_ ? pool_->out.get() : nullptr; }
  // The pool topic's name; null without SplitPools.
  const std::string* pool_topic() const { return pool_ ? &pool_->topic : nullptr; }

  // Starts delivery (the dispatcher's threads, unless another worker's pipeline did). Before the
  // first message.
  absl::Status Start();

  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& message) override;
  bool Saturated() const override {
    return dispatcher_->Saturated() || (dead_letters_ && dead_letters_->Saturated()) ||
           (rekeyed_ && rekeyed_->Saturated()) || (pool_ && pool_->out->Saturated());
  }
  void Tick() override;
  void OnPartitionsAssigned(const std::vector<TopicPartition>& partitions) override;
  void OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) override;
  void OnPartitionEnd(const TopicPartition& partition) override;
  int64_t RestoreFrom(const TopicPartition& partition, int64_t offset) override;
  bool Settled() override;
  // Delivers what is queued (dead letters, alerts) within the drain timeout; the dispatcher's
  // owner stops it afterwards (the service, once every worker drained; else its destructor).
  // Idempotent; the pipeline takes no more messages afterwards.
  void Drain() override;

  const RunStats& stats() const { return stats_; }
  const Dispatcher& dispatcher() const { return *dispatcher_; }
  // Null when rejects are only counted.
  const RecordOutput* dead_letters() const { return dead_letters_.get(); }
  // Null unless in the rekey role.
  const RecordOutput* rekeyed() const { return rekeyed_.get(); }
  // Every engine's (with a pool topic, the input's PoolForward and the pool engine's too).
  std::vector<const Detector*> detectors() const;
  // Alerts refused for good or dropped by some sink.
  uint64_t sink_failures() const;
  // The engine's counters (duplicates, too_late, too_old, clock_ahead, skew).
  const EngineStats& engine_stats() const { return engine_->stats(); }
  // Hosts whose event time is kept now, and how many were evicted (max_hosts). Call on the
  // pipeline thread or after it stopped (metrics read the snapshot of the last Tick).
  const EventClocks& clocks() const { return engine_->clocks(); }
  // One JSON line: {"events":N,"parsed":N,"rejected":N,"rejected_by_reason":{...},
  // "duplicates":N,"too_late":N,"too_old":N,"clock_ahead":N,"alerts":N,"alerts_by_rule":{...},
  // "hosts":N,"host_evictions":N,"state_keys":N,"state_evictions":N,"sink_failures":N,
  // "sinks":{"NAME":{"delivered":N,"failed":N,"retried":N,"dropped":N,"queued":N},...},
  // "seconds":S} (S: from the first message to the start of the drain, the time the events took).
  // Call on the pipeline thread or after it stopped. With several workers, their sum (and their
  // shared dispatcher's sinks once): SummaryJson(all).
  std::string SummaryJson() const { return SummaryJson({this}); }
  static std::string SummaryJson(const std::vector<const Pipeline*>& pipelines);

 private:
  void Emit(Alert alert) override;
  // Whether `alert`, raised while a replayed message is processed, was sent before.
  bool RaisedBefore(const Alert& alert) const;
  // Keeps `open_` (replayed alerts too: a restore rebuilds it); `ticket`: the alert's delivery
  // (null when it is not sent).
  void TrackIncident(const Alert& alert, std::shared_ptr<const DeliveryTicket> ticket);
  // Forgets what is further back than a restore reads (KafkaSourceConfig::kMaxRestoreLookback)
  // behind the newest Kafka time read, so that the map stays bounded (Tick).
  void ForgetOldIncidents();
  // A message that cannot be used: counted, dead-lettered (unless replayed).
  std::shared_ptr<const DeliveryTicket> Reject(const Message& message, ParseError error);
  // A record of the pool topic: into the pool engine.
  std::shared_ptr<const DeliveryTicket> OnPoolRecord(const Message& message);
  // Publishes the input partitions' clocks that moved since the last time (Tick).
  void SendHeartbeats();
  // Lets the lanes whose input partition was read to its end stop holding the pool engine's
  // clock back, once the broker says nothing was appended to that partition since (Tick and
  // Settled, at most every kEndCheckInterval): see PoolTopic::ended.
  // Settled asks at once (`now_or_never`): a run at its end waits for no interval.
  void CheckEnds(bool now_or_never = false);
  // Whether some lane's end is not checked yet.
  bool EndsWaiting() const;
  // A record of the pool topic written after the last CheckEnds: the lanes it let pass hold
  // the clock again until the next one.
  void HoldEndedLanes();
  // A lane's claimed end is over (its partition has more, or a new owner): one it let pass
  // holds the clock again.
  void Unclaim(int32_t lane);
  static constexpr absl::Duration kEndCheckInterval = absl::Milliseconds(250);
  void PublishDetectorState();
  static void Bump(std::atomic<uint64_t>& counter) {
    // Single writer: a plain load/store pair avoids a locked instruction per event.
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::unique_ptr<EventParser> parser_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<Dispatcher> dispatcher_;  // shared by the workers of one service
  size_t max_message_bytes_;
  std::unique_ptr<RecordOutput> dead_letters_;
  std::unique_ptr<RecordOutput> rekeyed_;
  EventCodec codec_;  // the rekey role's
  Clock& clock_;
  absl::Duration drain_timeout_;
  bool drained_ = false;
  bool replaying_ = false;  // Emit sends nothing while a replayed message is processed
  Engine* processing_;      // the engine processing the message (the input's or the pool's)
  // ingest.pool_topic; null without.
  struct PoolTopic {
    std::string topic;
    std::string input_topic;
    std::unique_ptr<Engine> engine;
    std::unique_ptr<RecordOutput> out;
    // The input partitions held: where this member read each to its end (-1: not at it), and
    // what their last heartbeat said.
    struct Input {
      int64_t end = -1;
      absl::Time sent_clock = absl::InfinitePast();
      int64_t sent_end = -1;
      bool sent = false;
    };
    std::map<int32_t, Input> inputs;
    // The pool engine's partitions are lanes: one per (pool topic partition, input partition),
    // each a clock the input partition's records move in that pool partition. Its arrival clock
    // (the slowest lane) then waits both for a lagging input partition and for a pool partition
    // read behind the others, as one engine reading the input waits for its slowest partition.
    absl::flat_hash_map<std::pair<int32_t, int32_t>, int32_t> lanes;
    std::vector<int32_t> input_of;                     // by lane: its input partition
    std::map<int32_t, std::vector<int32_t>> lanes_of;  // by pool topic partition
    // Lanes whose input partition's owner said it read it to its end (a heartbeat's source_end),
    // at that offset. Such a lane holds the pool engine's clock back at its own until CheckEnds
    // finds, by the broker's end offsets, that nothing was appended to the partition since; it
    // has `passed` then, until a pool topic record written after that check is read (the
    // other members' heartbeats move the clock on as they read: one written after its writer
    // read records appended to a partition after another member's end would otherwise take
    // the clock past records that member has yet to read and forward).
    struct Ended {
      int64_t end;
      bool passed = false;
    };
    absl::flat_hash_map<int32_t, Ended> ended;  // by lane
    bool passed_any = false;
    // By pool topic partition: its end offset at the last CheckEnds (the records below it were
    // written before the input's ends were asked).
    std::map<int32_t, int64_t> checked_below;
    absl::Time last_check = absl::InfinitePast();
    // The pool topic's partitions held, and the offset of the last record read from each (or
    // before its end, once at it).
    std::map<int32_t, int64_t> read;
    // The pools read from each of its partitions: forgotten with it when it is revoked.
    std::map<int32_t, absl::flat_hash_set<std::string>> pools_of;
    absl::flat_hash_map<std::string, int32_t> partition_of;  // the other way round
  };
  // The lane of input partition `input`'s records in pool topic partition `partition`.
  int32_t Lane(int32_t partition, int32_t input);
  std::unique_ptr<PoolTopic> pool_;
  int32_t pool_partition_ = -1;  // of the pool record being processed
  // The input partitions held, each with the offset after its last message processed.
  absl::flat_hash_map<int32_t, int64_t> input_next_;
  // The incidents a commit's restore point must reach back to (RestoreFrom), by (on the pool
  // topic, partition, fingerprint): open ones, and resolved ones whose resolution the commit
  // has not passed yet (`closed_at`: the partition's next offset then). A hostless alert of the
  // input engine (the fleet detector without a pool topic) is every input partition's.
  struct OpenIncident {
    int64_t since_ms;  // Kafka time: its first event's time less max_clock_skew
    bool resolved = false;
    int64_t closed_at = -1;  // resolved: its partition's next offset then (-1: none read yet)
    std::shared_ptr<const DeliveryTicket> resolution;  // its delivery; null: not sent
  };
  std::map<std::tuple<bool, int32_t, std::string>, OpenIncident> open_;
  Event event_;             // reused: parsing assigns into its strings without reallocating
  absl::Time broker_time_;  // of the message being processed
  absl::Time first_message_, drain_started_;  // for the summary's "seconds"
  // Kafka timestamps up to here are taken (the wall clock at the last Tick + max_clock_skew).
  absl::Time trusted_until_;
  std::shared_ptr<DeliveryTicket> ticket_;  // its deliveries, created at the first one
  RunStats stats_;
};

}  // namespace faultline

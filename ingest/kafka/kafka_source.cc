#include "ingest/kafka/kafka_source.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kafka/producer.h"
#include "core/log.h"

namespace faultline {

const settings::Schema<KafkaSourceConfig>& KafkaSourceConfig::Schema() {
  using C = KafkaSourceConfig;
  static const auto* schema =
      &(*new settings::Schema<C>(
            "The topics to read (run); replay and check-config need no broker."))
           .String("brokers", &C::brokers, "bootstrap.servers, e.g. kafka-1:9092,kafka-2:9092.")
           .StringList("topics", &C::topics, "The topics to consume (a name or a list).")
           .String("group_id", &C::group_id,
                   "The consumer group: instances with the same id share the partitions.")
           .String("group_instance_id", &C::group_instance_id,
                   "Static membership (group.instance.id): no rebalance on a quick restart.")
           .String("client_id", &C::client_id, "client.id, shown in the broker's logs.")
           .Choice("auto_offset_reset", &C::auto_offset_reset,
                   std::vector<std::pair<std::string, std::string>>{{"earliest", "earliest"},
                                                                    {"latest", "latest"}},
                   "Where a group without committed offsets starts.")
           .Duration("commit_interval", &C::commit_interval, settings::Bound::kPositive,
                     "How often delivered positions are committed.")
           .Integer("queued_max_messages_kbytes", &C::queued_max_messages_kbytes, 0, 2'097'151,
                    "The pre-fetch queue per partition; 0: chosen by the librdkafka version "
                    "(64 MiB before 2.3, 16 MiB from 2.3).")
           .StringMap("properties", &C::properties,
                      "librdkafka properties applied last (security.protocol, sasl.*, ssl.*).")
           .Check([](const C& c, settings::Checker& check) {
             if (check.has("group_id") && c.group_id.empty()) {
               check.Error("group_id", "must not be empty");
             }
             // librdkafka knows its properties: asked here, a typo is reported with the rest.
             KafkaConf conf = NewKafkaConf();
             for (const auto& [name, value] : c.properties) {
               if (std::string why = SetKafkaProperty(conf.get(), name, value); !why.empty()) {
                 check.Error("properties", why);
               }
             }
           });
  return *schema;
}
namespace {

std::string ErrorName(rd_kafka_resp_err_t err) {
  return absl::StrCat(rd_kafka_err2name(err), " (", rd_kafka_err2str(err), ")");
}

// librdkafka's own error callback: connection trouble arrives here, not as messages.
void ErrorCallback(rd_kafka_t*, int err, const char* reason, void*) {
  LogWarning(absl::StrCat("kafka: ", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), ": ",
                          reason));
}

}  // namespace

FetchDefaults FetchDefaults::For(int version) {
  constexpr int kFetchQueueBackoff = 0x020300ff;  // librdkafka 2.3.0 (rd_kafka_version() format)
  if (version < kFetchQueueBackoff) return {.queued_max_messages_kbytes = 65536};
  return {.queued_max_messages_kbytes = 16384,
          .properties = {{"fetch.queue.backoff.ms", "10"}, {"queued.min.messages", "20000"}}};
}

std::vector<std::pair<std::string, std::string>> FetchDefaults::Effective(
    const KafkaSourceConfig& config, int version) {
  const FetchDefaults defaults = For(version);
  std::vector<std::pair<std::string, std::string>> out = {
      {"queued.max.messages.kbytes", std::to_string(config.queued_max_messages_kbytes > 0
                                                        ? config.queued_max_messages_kbytes
                                                        : defaults.queued_max_messages_kbytes)}};
  out.insert(out.end(), defaults.properties.begin(), defaults.properties.end());
  for (auto& [name, value] : out) {
    for (const auto& [user_name, user_value] : config.properties) {
      if (user_name == name) value = user_value;
    }
  }
  return out;
}

KafkaSource::KafkaSource(KafkaSourceConfig config, Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

KafkaSource::~KafkaSource() {
  // Leaves the group at once rather than after the session timeout.
  if (rk_ != nullptr && !closed_) rd_kafka_consumer_close(rk_.get());
  rk_.reset();  // its callbacks reach this object's members: destroyed before them
}

KafkaConf KafkaSource::BuildConf(const KafkaSourceConfig& config,
                                 std::vector<std::string>* errors) {
  if (config.brokers.empty()) errors->push_back("kafka.brokers: must not be empty");
  if (config.topics.empty()) errors->push_back("kafka.topics: must name at least one topic");
  if (config.group_id.empty()) errors->push_back("kafka.group_id: must not be empty");
  KafkaConf conf = NewKafkaConf();
  auto set = [&](const std::string& name, const std::string& value) {
    if (std::string why = SetKafkaProperty(conf.get(), name, value); !why.empty()) {
      errors->push_back(absl::StrCat("kafka property ", why));
    }
  };
  set("bootstrap.servers", config.brokers);
  set("group.id", config.group_id);
  set("client.id", config.client_id);
  if (!config.group_instance_id.empty()) set("group.instance.id", config.group_instance_id);
  set("auto.offset.reset", config.auto_offset_reset);
  // Offsets are ours to commit, and only for processed messages.
  set("enable.auto.commit", "false");
  set("enable.auto.offset.store", "false");
  // The end of a partition is news even when running on: it is idle, and the arrival clock of
  // the slowest partition (detect/time/event_clocks.h) stops waiting for it.
  set("enable.partition.eof", "true");
  for (const auto& [name, value] : FetchDefaults::Effective(config, rd_kafka_version())) {
    set(name, value);
  }
  for (const auto& [name, value] : config.properties) set(name, value);
  if (!errors->empty()) return nullptr;
  return conf;
}

absl::Status KafkaSource::Validate(const KafkaSourceConfig& config) {
  std::vector<std::string> errors;
  if (BuildConf(config, &errors) == nullptr) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Create(const KafkaSourceConfig& config,
                                                                 Clock& clock) {
  std::vector<std::string> errors;
  KafkaConf conf = BuildConf(config, &errors);
  if (conf == nullptr) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  std::unique_ptr<KafkaSource> source(new KafkaSource(config, clock));
  rd_kafka_conf_set_opaque(conf.get(), source.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::RebalanceCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &ErrorCallback);
  absl::StatusOr<KafkaClient> rk = NewKafkaClient(RD_KAFKA_CONSUMER, std::move(conf));
  if (!rk.ok()) return absl::InvalidArgumentError(absl::StrCat("kafka ", rk.status().message()));
  source->rk_ = *std::move(rk);
  rd_kafka_poll_set_consumer(source->rk_.get());
  LogInfo(absl::StrCat("kafka: librdkafka ", rd_kafka_version_str(), ": ",
                       absl::StrJoin(FetchDefaults::Effective(config, rd_kafka_version()), ", ",
                                     absl::PairFormatter("="))));

  KafkaPartitions topics = NewKafkaPartitions(static_cast<int>(config.topics.size()));
  for (const std::string& topic : config.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(source->rk_.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat("kafka subscribe: ", ErrorName(err)));
  }
  return source;
}

void KafkaSource::RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnRebalance(err, parts);
}

void KafkaSource::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  stats_.rebalances.fetch_add(1, std::memory_order_relaxed);
  rd_kafka_t* rk = rk_.get();
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      if (KafkaPtr<rd_kafka_error_t> e{rd_kafka_incremental_assign(rk, parts)}) {
        LogError(absl::StrCat("kafka incremental assign: ", rd_kafka_error_string(e.get())));
      }
    } else {
      rd_kafka_assign(rk, parts);
    }
    std::vector<int32_t> partitions;
    for (int i = 0; i < parts->cnt; ++i) {
      assigned_.push_back({parts->elems[i].topic, parts->elems[i].partition, false});
      partitions.push_back(parts->elems[i].partition);
    }
    if (handler_ != nullptr) handler_->OnPartitionsAssigned(partitions);
    // Back-pressure covers new partitions too.
    if (paused_ && parts->cnt > 0) rd_kafka_pause_partitions(rk, parts);
    stats_.joined.store(true);
    LogInfo(absl::StrCat("kafka: assigned ", parts->cnt, " partition(s), now holding ",
                         assigned_.size()));
    return;
  }
  // Revoked (or lost): commit what was processed while the partitions are still ours.
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk)) {
    CommitProcessed(/*sync=*/true);
  }
  std::vector<int32_t> partitions;
  for (int i = 0; i < parts->cnt; ++i) {
    offsets_.Forget(parts->elems[i].topic, parts->elems[i].partition);
    std::erase_if(assigned_, [&](const PartitionState& p) {
      return p.partition == parts->elems[i].partition && p.topic == parts->elems[i].topic;
    });
    partitions.push_back(parts->elems[i].partition);
  }
  if (handler_ != nullptr) handler_->OnPartitionsRevoked(partitions);
  if (cooperative) {
    if (KafkaPtr<rd_kafka_error_t> e{rd_kafka_incremental_unassign(rk, parts)}) {
      LogError(absl::StrCat("kafka incremental unassign: ", rd_kafka_error_string(e.get())));
    }
  } else {
    rd_kafka_assign(rk, nullptr);
  }
  LogInfo(absl::StrCat("kafka: revoked ", parts->cnt, " partition(s)"));
}

void KafkaSource::CommitProcessed(bool sync) {
  std::vector<OffsetTracker::Commit> dirty = offsets_.TakeDirty();
  if (dirty.empty()) return;
  KafkaPartitions list = NewKafkaPartitions(static_cast<int>(dirty.size()));
  for (const OffsetTracker::Commit& c : dirty) {
    rd_kafka_topic_partition_list_add(list.get(), c.topic.c_str(), c.partition)->offset = c.offset;
  }
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), sync ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    stats_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    offsets_.Restore(dirty);  // retried on the next timer tick
    LogWarning(absl::StrCat("kafka commit failed (will retry): ", ErrorName(err)));
    return;
  }
  stats_.commits.fetch_add(1, std::memory_order_relaxed);
}

void KafkaSource::SetPaused(bool paused) {
  paused_ = paused;
  stats_.paused.store(paused, std::memory_order_relaxed);
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  KafkaPartitions assignment(raw);
  if (assignment->cnt > 0) {
    // Pausing drops librdkafka's pre-fetched messages of the partition; resuming fetches again
    // from the last message this loop consumed, so nothing is skipped.
    if (paused) {
      rd_kafka_pause_partitions(rk_.get(), assignment.get());
    } else {
      rd_kafka_resume_partitions(rk_.get(), assignment.get());
    }
  }
  if (paused) {
    stats_.pauses.fetch_add(1, std::memory_order_relaxed);
    LogInfo("kafka: a sink queue is full; consumption paused until it drains");
  } else {
    LogInfo("kafka: sink queues drained; consumption resumed");
  }
}

void KafkaSource::PublishPartitionStats() {
  std::vector<PartitionStats> out;
  for (const OffsetTracker::Position& p : offsets_.Positions()) {
    int64_t low = -1, high = -1;
    rd_kafka_get_watermark_offsets(rk_.get(), p.topic.c_str(), p.partition, &low, &high);
    out.push_back({.topic = p.topic,
                   .partition = p.partition,
                   .processed = p.processed,
                   .committed = p.committed,
                   .high_watermark = high,
                   .in_flight = p.in_flight});
  }
  std::lock_guard<std::mutex> lock(partitions_mu_);
  partitions_ = std::move(out);
}

std::vector<KafkaSource::PartitionStats> KafkaSource::partitions() const {
  std::lock_guard<std::mutex> lock(partitions_mu_);
  return partitions_;
}

bool KafkaSource::AllAssignedAtEnd() const {
  if (assigned_.empty()) return false;
  for (const PartitionState& p : assigned_) {
    if (!p.at_end) return false;
  }
  return true;
}

absl::Status KafkaSource::Run(MessageHandler& handler, const std::atomic<bool>& stop) {
  handler_ = &handler;
  const int poll_ms = static_cast<int>(absl::ToInt64Milliseconds(config_.poll_timeout));
  absl::Time next_commit = clock_.TimeNow() + config_.commit_interval;
  absl::Time next_tick = clock_.TimeNow();
  absl::Status status;
  uint32_t since_check = 0, check_every = 1;  // events since the last clock reading
  absl::Time last_check = clock_.TimeNow();
  while (!stop.load(std::memory_order_relaxed)) {
    if (handler.Saturated() != paused_) SetPaused(!paused_);
    KafkaMessage message(rd_kafka_consumer_poll(rk_.get(), poll_ms));
    if (const rd_kafka_message_t* m = message.get(); m != nullptr) {
      const char* topic = rd_kafka_topic_name(m->rkt);
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        stats_.messages.store(stats_.messages.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);  // single writer: no locked add
        rd_kafka_timestamp_type_t ts_type;
        const int64_t ts_ms = rd_kafka_message_timestamp(m, &ts_type);
        std::shared_ptr<const DeliveryTicket> ticket = handler.OnMessage(Message{
            .payload = {static_cast<const char*>(m->payload), m->len},
            .key = {static_cast<const char*>(m->key), m->key_len},
            .topic = topic,
            .origin = {.partition = m->partition,
                       .offset = m->offset,
                       .broker_time =
                           ts_ms >= 0 ? absl::FromUnixMillis(ts_ms) : absl::InfinitePast()},
        });
        offsets_.MarkProcessed(topic, m->partition, m->offset, std::move(ticket));
        if (config_.stop_at_end) {
          for (PartitionState& p : assigned_) {
            if (p.partition == m->partition && p.topic == topic) p.at_end = false;
          }
        }
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        for (PartitionState& p : assigned_) {
          if (p.partition == m->partition && p.topic == topic) p.at_end = true;
        }
        handler.OnPartitionEnd(m->partition);
      } else {
        stats_.consumer_errors.fetch_add(1, std::memory_order_relaxed);
        LogWarning(absl::StrCat("kafka consume error on ", topic ? topic : "?", "[", m->partition,
                                "]: ", ErrorName(m->err)));
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
          char reason[512];
          rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason));
          status = absl::InternalError(absl::StrCat("kafka fatal error: ", reason));
          break;
        }
      }
      const bool event = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
      message.reset();
      // While events flow, the clock is read every `check_every` events rather than per message
      // (a read per message was 3.7% of `run`): about every 10 ms at the rate of the last
      // reading, and at least every 16 events, so a trickle that never leaves the poll empty
      // (10 events/s or more) still reaches the timers within 1.6 s. After anything else and at
      // every empty poll, at once.
      if (event && ++since_check < check_every) continue;
    }
    const absl::Time now = clock_.TimeNow();
    if (since_check > 0) {
      const double elapsed = absl::ToDoubleSeconds(now - last_check);
      check_every =
          elapsed <= 0
              ? std::min<uint32_t>(check_every * 2, 16)
              : static_cast<uint32_t>(std::clamp(since_check * 0.010 / elapsed, 1.0, 16.0));
    }
    since_check = 0;
    last_check = now;
    if (now >= next_commit) {
      CommitProcessed(/*sync=*/false);
      next_commit = now + config_.commit_interval;
    }
    if (now >= next_tick) {
      handler.Tick();
      PublishPartitionStats();
      next_tick = now + absl::Seconds(1);
    }
    if (config_.stop_at_end && AllAssignedAtEnd()) break;
  }
  // Deliver what is queued (within the handler's deadline), then commit what was delivered.
  handler.Drain();
  CommitProcessed(/*sync=*/true);
  PublishPartitionStats();
  rd_kafka_consumer_close(rk_.get());
  closed_ = true;
  handler_ = nullptr;
  stats_.joined.store(false);
  return status;
}

}  // namespace faultline

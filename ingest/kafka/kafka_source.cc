#include "ingest/kafka/kafka_source.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kafka/producer.h"
#include "core/log.h"
#include "core/strings.h"

namespace faultline {

const settings::Schema<KafkaSourceConfig>& KafkaSourceConfig::Schema() {
  using C = KafkaSourceConfig;
  static const auto* schema =
      &(*new settings::Schema<C>(
            "The topics to read (run); replay and check-config need no broker."))
           .String("brokers", &C::brokers, "bootstrap.servers, e.g. kafka-1:9092,kafka-2:9092.")
           .StringList("topics", &C::topics, "The topics to consume (a name or a list).",
                       /*min_items=*/1)
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
           .Duration("restore_batching", &C::restore_batching, settings::Bound::kNonNegative,
                     "A partition given to this member is read again from before its commit, "
                     "as far as the detectors' longest window plus the lateness plus this (in "
                     "Kafka time): a host's events a window apart arrive further apart when its "
                     "forwarder batches them (WEF: 15 minutes). 0 for forwarders that send at "
                     "once: a smaller restore.")
           .Integer("queued_max_messages_kbytes", &C::queued_max_messages_kbytes, 0, 2'097'151,
                    "The pre-fetch queue per partition; 0: chosen by the librdkafka version "
                    "(64 MiB before 2.3, 16 MiB from 2.3).")
           .StringMap("properties", &C::properties,
                      "librdkafka properties applied last (security.protocol, sasl.*, ssl.*).",
                      settings::MapValues::kInlineFileOrEnv)
           .Integer("workers", &C::workers, 0, C::kMaxWorkers,
                    "Worker threads of `run`: each is a member of the group with its own "
                    "consumer, parser and detectors, and holds its share of the partitions (as "
                    "Kafka Streams' num.stream.threads). 0: one per core this process may use, "
                    "but one while fleet_app_pool_failures is on without ingest.pool_topic (a "
                    "worker sees only its own partitions' hosts: more than one is then a "
                    "configuration error). `rekey` runs one.")
           .Check([](const C& c, settings::Checker& check) {
             if (check.has("group_id") && c.group_id.empty()) {
               check.Error("group_id", "must not be empty");
             }
             if (std::count(c.topics.begin(), c.topics.end(), "") > 0) {
               check.Error("topics", "a topic name must not be empty");
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

// The commit metadata that carries the Kafka time a restore reads back from (before
// restore_span): the committed position's, or an open incident's first event's.
constexpr absl::string_view kTimestampMetadata = "faultline.ts=";

void SetTimestampMetadata(rd_kafka_topic_partition_t* p, int64_t timestamp_ms) {
  const std::string text = absl::StrCat(kTimestampMetadata, timestamp_ms);
  p->metadata = malloc(text.size());  // the list frees it
  p->metadata_size = text.size();
  std::memcpy(p->metadata, text.data(), text.size());
}

// -1 when the metadata is not faultline's (nothing committed, another tool's commit).
int64_t TimestampMetadata(const rd_kafka_topic_partition_t& p) {
  const absl::string_view text(static_cast<const char*>(p.metadata), p.metadata_size);
  int64_t ms = -1;
  if (p.metadata == nullptr || !absl::StartsWith(text, kTimestampMetadata) ||
      !absl::SimpleAtoi(text.substr(kTimestampMetadata.size()), &ms)) {
    return -1;
  }
  return ms;
}

}  // namespace

bool IsAuthenticationFailure(rd_kafka_resp_err_t err, std::string_view reason) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return true;
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
      // Only what says that a certificate was refused, either way: "certificate verify failed"
      // (the broker's, by this client), "SSL alert number 46" (this client's, by the broker,
      // after a TLS 1.3 handshake). Not every __SSL: a broker restarting mid-handshake gives
      // "unexpected eof" or a transport error, which the retries ride out.
      return absl::StrContains(ToAbsl(reason), "certificate verify failed") ||
             absl::StrContains(ToAbsl(reason), "SSL alert number");
    default:
      return false;
  }
}

// librdkafka's own error callback: connection trouble arrives here, not as messages.
void KafkaSource::ErrorCallback(rd_kafka_t*, int err, const char* reason, void* opaque) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  LogWarning(absl::StrCat("kafka: ", rd_kafka_err2name(code), ": ", reason));
  auto* source = static_cast<KafkaSource*>(opaque);
  if (source != nullptr && source->auth_failure_.empty() && !source->stats_.joined.load() &&
      IsAuthenticationFailure(code, reason)) {
    source->auth_failure_ = reason;
  }
}

ConsumerDefaults ConsumerDefaults::For(int version) {
  constexpr int kFetchQueueBackoff = 0x020300ff;  // librdkafka 2.3.0 (rd_kafka_version() format)
  if (version < kFetchQueueBackoff) return {.queued_max_messages_kbytes = 65536};
  return {.queued_max_messages_kbytes = 16384,
          .properties = {{"fetch.queue.backoff.ms", "10"}, {"queued.min.messages", "20000"}}};
}

std::vector<std::pair<std::string, std::string>> ConsumerDefaults::Effective(
    const KafkaSourceConfig& config, int version) {
  const ConsumerDefaults defaults = For(version);
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
  assigned_.clear();  // buffered messages belong to the handle: released before it
  closing_ = true;
  if (rk_ != nullptr && !closed_) rd_kafka_consumer_close(rk_.get());
  rk_.reset();  // its callbacks reach this object's members: destroyed before them
}

KafkaConf KafkaSource::BuildConf(const KafkaSourceConfig& config,
                                 std::vector<std::string>* errors) {
  KafkaConf conf = NewKafkaConf();
  auto set = [&](const std::string& name, const std::string& value) {
    if (std::string why = SetKafkaProperty(conf.get(), name, value); !why.empty()) {
      errors->push_back(why);
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
  for (const auto& [name, value] : ConsumerDefaults::Effective(config, rd_kafka_version())) {
    set(name, value);
  }
  for (const auto& [name, value] : config.properties) set(name, value);
  if (!errors->empty()) return nullptr;
  return conf;
}

void KafkaSource::Validate(const KafkaSourceConfig& config, settings::Problems& problems) {
  // The group id's emptiness and the properties are the schema's: only what `run` needs more.
  if (config.brokers.empty()) problems.AddLater("kafka.brokers", "must not be empty");
  if (config.topics.empty()) problems.AddLater("kafka.topics", "must name at least one topic");
  std::vector<std::string> errors;
  if (BuildConf(config, &errors) == nullptr) {
    for (std::string& e : errors) problems.AddLater("kafka.properties", std::move(e));
  }
}

absl::Status KafkaSource::Validate(const KafkaSourceConfig& config) {
  settings::Problems problems;
  Validate(config, problems);
  return problems.ToStatus("");
}

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Create(const KafkaSourceConfig& config,
                                                                 Clock& clock) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
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
                       absl::StrJoin(ConsumerDefaults::Effective(config, rd_kafka_version()), ", ",
                                     absl::PairFormatter("="))));

  KafkaPartitions topics = NewKafkaPartitions(static_cast<int>(config.topics.size()));
  for (const std::string& topic : config.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(source->rk_.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Refused here, before any broker is asked: a topic name or pattern librdkafka cannot use.
    const std::string what = absl::StrCat("kafka subscribe: ", ErrorName(err));
    return err == RD_KAFKA_RESP_ERR__INVALID_ARG ? absl::InvalidArgumentError(what)
                                                 : absl::UnavailableError(what);
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
  // librdkafka answers NULL once the consumer is closing (seen under UBSan at a close in CI):
  // the protocol of the last rebalance still holds then.
  if (const char* protocol = rd_kafka_rebalance_protocol(rk); protocol != nullptr) {
    cooperative_ = std::strcmp(protocol, "COOPERATIVE") == 0;
  }
  const bool cooperative = cooperative_;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && closing_) {
    // An assignment served by the close (it was queued before the loop ended): librdkafka turns
    // it into an unassign. Nothing is restored (asking the group for its committed positions
    // while it terminates waits out the whole timeout) and nothing is held.
    if (cooperative) {
      KafkaPtr<rd_kafka_error_t> ignored{rd_kafka_incremental_assign(rk, parts)};
    } else {
      rd_kafka_assign(rk, parts);
    }
    LogInfo(absl::StrCat("kafka: closing; ", parts->cnt,
                         " partition(s) assigned meanwhile left "
                         "to the group"));
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rebalancing_ = false;
    if (config_.restore_span > absl::ZeroDuration() && parts->cnt > 0) PlanRestore(parts);
    // The eager protocol's revoke came first: what it took and did not give back is gone now.
    // What it gives back is read on from where it was processed to, not from its commit (held
    // back by deliveries still in flight): its events are in the detectors' state already, and
    // one read twice would be taken for a late event (its first reading forgotten by then).
    std::vector<TopicPartition> gone;
    for (const Kept& k : kept_) {
      rd_kafka_topic_partition_t* back =
          rd_kafka_topic_partition_list_find(parts, k.topic.c_str(), k.partition);
      if (back == nullptr) {
        gone.push_back({k.topic, k.partition});
        offsets_.Forget(k.topic, k.partition);
      } else if (k.next >= 0) {
        back->offset = k.next;
      }
    }
    if (handler_ != nullptr && !gone.empty()) handler_->OnPartitionsRevoked(gone);
    kept_.clear();
    if (cooperative) {
      if (KafkaPtr<rd_kafka_error_t> e{rd_kafka_incremental_assign(rk, parts)}) {
        LogError(absl::StrCat("kafka incremental assign: ", rd_kafka_error_string(e.get())));
      }
    } else {
      rd_kafka_assign(rk, parts);
    }
    std::vector<TopicPartition> partitions;
    for (int i = 0; i < parts->cnt; ++i) {
      const auto* until = static_cast<const int64_t*>(parts->elems[i].opaque);
      assigned_.push_back({.topic = parts->elems[i].topic,
                           .partition = parts->elems[i].partition,
                           .at_end = false,
                           .last_fetch = clock_.TimeNow(),
                           .replay_until = until != nullptr ? *until : -1,
                           .restore_started = clock_.TimeNow()});
      if (until != nullptr) ++restoring_;
      delete until;
      parts->elems[i].opaque = nullptr;
      partitions.push_back({parts->elems[i].topic, parts->elems[i].partition});
    }
    if (handler_ != nullptr) handler_->OnPartitionsAssigned(partitions);
    // Back-pressure covers new partitions too.
    if (paused_ && parts->cnt > 0) rd_kafka_pause_partitions(rk, parts);
    stats_.joined.store(true);
    LogInfo(absl::StrCat("kafka: assigned ", parts->cnt, " partition(s), now holding ",
                         assigned_.size(), cooperative ? " (cooperative rebalance)" : ""));
    return;
  }
  // Revoked (or lost): commit what was processed while the partitions are still ours. An
  // assignment follows (possibly empty; cooperative rebalances too), unless this is the close.
  rebalancing_ = !closing_;
  const bool lost = rd_kafka_assignment_lost(rk);
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !lost) CommitProcessed(/*sync=*/true);
  // The eager protocol revokes everything at every rebalance and gives most of it back: what
  // comes back at once was processed to its commit here, with its state still in memory, and
  // is not read again (a restore would count its events twice). The handler hears of the rest
  // at the assignment (it drops their state); of a cooperative or lost revoke at once. At the
  // close there is no next assignment: nothing is dropped (the process ends).
  kept_.clear();
  const bool eager = !cooperative && !lost && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS;
  std::vector<TopicPartition> half_restored;
  for (int i = 0; i < parts->cnt && eager; ++i) {
    // A partition revoked in the middle of its restore holds part of its state only: it is
    // dropped now and restored again if it comes back, never kept (an incident whose first
    // failures were not read again yet was lost so, under ASan's timing, in reliability_sigterm).
    const PartitionState* state = Find(parts->elems[i].topic, parts->elems[i].partition);
    if (state != nullptr && state->replay_until >= 0) {
      half_restored.push_back({parts->elems[i].topic, parts->elems[i].partition});
      continue;
    }
    kept_.push_back({.topic = parts->elems[i].topic, .partition = parts->elems[i].partition});
  }
  for (const OffsetTracker::Position& p : offsets_.Positions()) {
    for (Kept& k : kept_) {
      if (k.partition == p.partition && k.topic == p.topic) k.next = p.processed;
    }
  }
  if (handler_ != nullptr && !half_restored.empty()) handler_->OnPartitionsRevoked(half_restored);
  std::vector<TopicPartition> partitions;
  for (int i = 0; i < parts->cnt; ++i) {
    // A kept partition's deliveries in flight still hold its commit (the assignment forgets
    // it if it does not come back).
    if (FindKept(parts->elems[i].topic, parts->elems[i].partition) == nullptr) {
      offsets_.Forget(parts->elems[i].topic, parts->elems[i].partition);
    }
    // Buffered messages of the partition were not processed: its next owner reads them.
    std::erase_if(assigned_, [&](const PartitionState& p) {
      const bool gone =
          p.partition == parts->elems[i].partition && p.topic == parts->elems[i].topic;
      if (gone) buffered_ -= p.buffered.size();
      if (gone && p.replay_until >= 0) --restoring_;
      return gone;
    });
    partitions.push_back({parts->elems[i].topic, parts->elems[i].partition});
  }
  if (handler_ != nullptr && !eager) handler_->OnPartitionsRevoked(partitions);
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
  // A kept partition is not this member's between the revocation and the assignment (another
  // may be given it): its commit waits for the assignment to give it back, or forget it.
  std::vector<OffsetTracker::Commit> waiting;
  std::erase_if(dirty, [&](const OffsetTracker::Commit& c) {
    if (FindKept(c.topic, c.partition) == nullptr) return false;
    waiting.push_back(c);
    return true;
  });
  if (!waiting.empty()) offsets_.Restore(waiting);
  if (dirty.empty()) return;
  KafkaPartitions list = NewKafkaPartitions(static_cast<int>(dirty.size()));
  for (const OffsetTracker::Commit& c : dirty) {
    rd_kafka_topic_partition_t* p =
        rd_kafka_topic_partition_list_add(list.get(), c.topic.c_str(), c.partition);
    p->offset = c.offset;
    int64_t restore_ms = c.timestamp_ms;
    if (handler_ != nullptr && c.timestamp_ms >= 0) {
      // An incident open on the partition began before the position: a restore reads back to
      // its first event, so it is rebuilt whole (its fingerprints, its count, its resolution).
      const int64_t not_before =
          c.timestamp_ms - absl::ToInt64Milliseconds(KafkaSourceConfig::kMaxRestoreLookback);
      const int64_t open = handler_->RestoreFrom({c.topic, c.partition}, c.offset);
      if (open >= 0) restore_ms = std::min(restore_ms, std::max(open, not_before));
    }
    if (restore_ms >= 0) SetTimestampMetadata(p, restore_ms);
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
    if (!p.at_end || !p.buffered.empty()) return false;
  }
  return true;
}

bool KafkaSource::ConfirmEnds() {
  // Real time, not clock_: this paces requests to the broker (a test's clock may stand still),
  // and a confirmation goes stale (a paused partition hears of no growth).
  const absl::Time now = RealClock::Get().TimeNow();
  KafkaPartitions ends = NewKafkaPartitions(8);
  std::vector<PartitionState*> asked;
  for (PartitionState& p : assigned_) {
    if (now - p.end_confirmed < kEndConfirmedFor) continue;
    rd_kafka_topic_partition_list_add(ends.get(), p.topic.c_str(), p.partition)->offset =
        RD_KAFKA_OFFSET_END;
    asked.push_back(&p);
  }
  if (asked.empty()) return true;
  // One ListOffsets round for all of them (by time: -1 asks for the end), at most once a second:
  // a query per partition waits behind this consumer's fetches (see GroupEndTopicsDone).
  if (now - ends_asked_ < kEndConfirmedFor) return false;
  ends_asked_ = now;
  if (rd_kafka_offsets_for_times(rk_.get(), ends.get(), 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;  // asked again at a later check
  }
  bool all = true;
  for (int i = 0; i < ends->cnt; ++i) {  // librdkafka keeps the list's order
    const rd_kafka_topic_partition_t& e = ends->elems[i];
    PartitionState& p = *asked[static_cast<size_t>(i)];
    if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR || e.offset < 0) {
      all = false;
    } else if (e.offset > p.next_offset) {
      p.at_end = false;  // more to read: its next end event tells
      all = false;
    } else {
      p.end_confirmed = now;
    }
  }
  return all;
}

bool KafkaSource::AtEnd(MessageHandler& handler) {
  if (together_ && together_->done()) return true;  // another worker found them all at the end
  // A worker holding nothing (more workers than partitions) has read all of its share, unless a
  // rebalance is under way.
  const bool mine =
      assigned_.empty() ? together_ && stats_.joined.load() && !rebalancing_ : AllAssignedAtEnd();
  const bool ready = mine && handler.Settled() && ConfirmEnds();
  if (together_ && ready != said_ready_) {
    together_->Set(member_, ready);
    said_ready_ = ready;
  }
  if (!ready || (together_ && !together_->AllReady()) || !GroupEndTopicsDone()) return false;
  if (together_) together_->Finish();
  return true;
}

bool KafkaSource::GroupEndTopicsDone() {
  if (config_.group_end_topics.empty()) return true;
  const absl::Time now = clock_.TimeNow();
  if (now - group_done_asked_ < absl::Seconds(1)) return false;
  group_done_asked_ = now;
  CommitProcessed(/*sync=*/true);  // this member's own part first
  // Few requests: each waits on this consumer's connection behind a fetch the broker holds for
  // up to fetch.wait.max.ms, so a query per partition (metadata, watermarks) blocked the loop
  // for seconds and the records it was waiting for stayed unread meanwhile. The partition counts
  // are asked once a minute; the ends in one ListOffsets round for all partitions.
  constexpr int kTimeoutMs = 5000;
  if (now - partition_counts_asked_ >= absl::Minutes(1)) {
    partition_counts_.clear();
    for (const std::string& topic : config_.group_end_topics) {
      KafkaPtr<rd_kafka_topic_t> t(rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr));
      const KafkaMetadata metadata = FetchTopicMetadata(rk_.get(), t.get(), kTimeoutMs);
      if (metadata == nullptr) return false;
      const bool known = metadata->topic_cnt == 1 && metadata->topics[0].err == 0;
      partition_counts_.push_back(known ? metadata->topics[0].partition_cnt : -1);
      if (!known) return false;  // not there (yet): asked again next time
    }
    partition_counts_asked_ = now;
  }
  KafkaPartitions committed = NewKafkaPartitions(8);
  for (size_t i = 0; i < config_.group_end_topics.size(); ++i) {
    for (int p = 0; p < partition_counts_[i]; ++p) {
      rd_kafka_topic_partition_list_add(committed.get(), config_.group_end_topics[i].c_str(), p);
    }
  }
  if (committed->cnt == 0) return true;
  if (rd_kafka_committed(rk_.get(), committed.get(), kTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  // ListOffsets by time: -2 asks for each partition's start, -1 for its end.
  KafkaPartitions starts(rd_kafka_topic_partition_list_copy(committed.get()));
  KafkaPartitions ends(rd_kafka_topic_partition_list_copy(committed.get()));
  for (int i = 0; i < committed->cnt; ++i) {
    starts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    ends->elems[i].offset = RD_KAFKA_OFFSET_END;
  }
  if (rd_kafka_offsets_for_times(rk_.get(), starts.get(), kTimeoutMs) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_offsets_for_times(rk_.get(), ends.get(), kTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  for (int i = 0; i < committed->cnt; ++i) {
    const rd_kafka_topic_partition_t& c = committed->elems[i];
    const int64_t low = starts->elems[i].offset, high = ends->elems[i].offset;
    if (starts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
        ends->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR || low < 0 || high < 0) {
      return false;  // not answered: asked again next time
    }
    // Nothing was ever written there (or all of it expired), or the group has committed it to
    // its end.
    if (high <= low || c.offset >= high) continue;
    if (now - group_wait_logged_ >= absl::Seconds(10)) {
      group_wait_logged_ = now;
      std::string here;  // what this member knows of it, if it holds it
      for (const OffsetTracker::Position& p : offsets_.Positions()) {
        if (p.partition != c.partition || p.topic != c.topic) continue;
        here = absl::StrCat("; held here: processed to ", p.processed, ", ", p.in_flight,
                            " message(s) awaiting their deliveries");
      }
      LogInfo(absl::StrCat("kafka: at the end; waiting for the group to commit ", c.topic, "[",
                           c.partition, "] to its end (committed ", c.offset, ", end ", high, here,
                           ")"));
    }
    return false;
  }
  return true;
}

const KafkaSource::Kept* KafkaSource::FindKept(std::string_view topic, int32_t partition) const {
  for (const Kept& k : kept_) {
    if (k.partition == partition && k.topic == topic) return &k;
  }
  return nullptr;
}

KafkaSource::PartitionState* KafkaSource::Find(const char* topic, int32_t partition) {
  for (PartitionState& p : assigned_) {
    if (p.partition == partition && p.topic == topic) return &p;
  }
  return nullptr;
}

void KafkaSource::PlanRestore(rd_kafka_topic_partition_list_t* parts) {
  // Where each partition was committed, and at what Kafka time (the commit's metadata)...
  constexpr int kTimeoutMs = 10000;
  KafkaPartitions committed(rd_kafka_topic_partition_list_copy(parts));
  // A partition's own error (the group's coordinator not found yet) is asked again, as below.
  for (int attempt = 1;; ++attempt) {
    if (rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), committed.get(), kTimeoutMs)) {
      LogWarning(
          absl::StrCat("kafka: no restore, the committed positions are unknown: ", ErrorName(err)));
      return;
    }
    bool failed = false;
    for (int i = 0; i < committed->cnt; ++i) {
      failed = failed || committed->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (!failed) break;
    if (attempt == 3) {
      for (int i = 0; i < committed->cnt; ++i) {
        const rd_kafka_topic_partition_t& c = committed->elems[i];
        if (c.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        LogWarning(absl::StrCat("kafka: no restore of ", c.topic, "[", c.partition,
                                "]: its committed position is unknown: ", ErrorName(c.err)));
      }
      break;
    }
    committed.reset(rd_kafka_topic_partition_list_copy(parts));
    clock_.SleepFor(absl::Milliseconds(200));
  }
  // ... and the first offset restore_span before that time.
  KafkaPartitions times = NewKafkaPartitions(committed->cnt);
  for (int i = 0; i < committed->cnt; ++i) {
    const rd_kafka_topic_partition_t& c = committed->elems[i];
    if (c.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // named above
    const int64_t ms = TimestampMetadata(c);
    const bool kept = FindKept(c.topic, c.partition) != nullptr;
    if (c.offset >= 0 && ms < 0 && !kept) {
      LogWarning(absl::StrCat("kafka: no restore of ", c.topic, "[", c.partition,
                              "]: its commit carries no restore time (not faultline's)"));
    }
    if (c.offset < 0 || ms < 0 || kept) continue;
    rd_kafka_topic_partition_list_add(times.get(), c.topic, c.partition)->offset =
        std::max<int64_t>(0, ms - absl::ToInt64Milliseconds(config_.restore_span));
  }
  if (times->cnt == 0) return;
  // A consumer just assigned may not know a partition's leader yet: when a partition's lookup
  // fails, the lookup is asked again (three times in all), then the partition is named (its
  // restore skipped: its windows rebuilt from the commit on only). It used to be skipped without
  // a word: a test once saw a due restore not happen, with nothing logged to say why.
  KafkaPartitions asked(rd_kafka_topic_partition_list_copy(times.get()));
  for (int attempt = 1;; ++attempt) {
    const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_.get(), times.get(), kTimeoutMs);
    bool failed = err != RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < times->cnt; ++i) {
      failed = failed || times->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    // A failure of the whole request (a timeout) is not asked again: the callback would hold
    // the consumer for as long again.
    if (!failed || attempt == 3 || err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        LogWarning(absl::StrCat("kafka: no restore, offsets for times failed: ", ErrorName(err)));
        return;
      }
      break;
    }
    times.reset(rd_kafka_topic_partition_list_copy(asked.get()));  // all of it, again
    clock_.SleepFor(absl::Milliseconds(200));
  }
  // Where each partition's log starts now: the records a restore needs may be gone. Kafka's time
  // retention goes by the records' own times, so a backfill of months-old events is deleted
  // minutes after it is written; records can also be deleted by hand (DeleteRecords). One
  // ListOffsets round (-2 asks for the start).
  KafkaPartitions starts(rd_kafka_topic_partition_list_copy(asked.get()));
  for (int i = 0; i < starts->cnt; ++i) starts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_.get(), starts.get(), kTimeoutMs)) {
    LogWarning(absl::StrCat("kafka: where the partitions' logs start is unknown (", ErrorName(err),
                            "): a restore that lacks deleted records is not told"));
    starts = NewKafkaPartitions(0);
  }
  for (int i = 0; i < times->cnt; ++i) {
    const rd_kafka_topic_partition_t& t = times->elems[i];
    rd_kafka_topic_partition_t* c =
        rd_kafka_topic_partition_list_find(committed.get(), t.topic, t.partition);
    rd_kafka_topic_partition_t* p = rd_kafka_topic_partition_list_find(parts, t.topic, t.partition);
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      LogWarning(absl::StrCat("kafka: no restore of ", t.topic, "[", t.partition,
                              "]: its offset by time is unknown: ", ErrorName(t.err)));
      continue;
    }
    if (c == nullptr || p == nullptr) continue;  // asked for exactly these: not expected
    const rd_kafka_topic_partition_t* s =
        rd_kafka_topic_partition_list_find(starts.get(), t.topic, t.partition);
    const int64_t log_start = s != nullptr && s->err == RD_KAFKA_RESP_ERR_NO_ERROR ? s->offset : -1;
    // The first record within the span is the log's first, or there is none (the record before
    // the commit, within the span by its metadata, is gone with the rest): the span may reach
    // into what was deleted, and windows open before the log's start are rebuilt in part (an
    // incident under new fingerprints).
    if (log_start > 0 && (t.offset < 0 || t.offset <= log_start)) {
      stats_.restores_cut.fetch_add(1, std::memory_order_relaxed);
      const int64_t left = c->offset - std::min(log_start, c->offset);
      LogWarning(absl::StrCat(
          "kafka: ", t.topic, "[", t.partition, "]: the restore may lack records: the log now ",
          "starts at ", log_start, " (deleted before it by retention, which goes by the records' ",
          "own times, or by hand); ", left, " message(s) before the commit at ", c->offset,
          " are left to rebuild the detectors' windows from",
          log_start > c->offset ? absl::StrCat(", and ", log_start - c->offset,
                                               " after it were deleted before they were read")
                                : ""));
    }
    if (t.offset < 0 || t.offset >= c->offset) continue;  // nothing before the commit to read
    p->offset = t.offset;                                 // read from here ...
    p->opaque = new int64_t(c->offset);  // ... as replays until the committed position
    stats_.restores.fetch_add(1, std::memory_order_relaxed);
    LogInfo(absl::StrCat("kafka: restoring ", t.topic, "[", t.partition, "]: reading ",
                         c->offset - t.offset, " message(s) again from offset ", t.offset,
                         " to rebuild the detectors' windows"));
  }
}

void KafkaSource::Deliver(MessageHandler& handler, const rd_kafka_message_t* m, PartitionState* p) {
  const char* topic = rd_kafka_topic_name(m->rkt);
  if (restoring_ > 0 && p == nullptr) p = Find(topic, m->partition);
  const bool replayed = p != nullptr && m->offset < p->replay_until;
  rd_kafka_timestamp_type_t ts_type;
  const int64_t ts_ms = rd_kafka_message_timestamp(m, &ts_type);
  std::shared_ptr<const DeliveryTicket> ticket = handler.OnMessage(Message{
      .payload = {static_cast<const char*>(m->payload), m->len},
      .key = {static_cast<const char*>(m->key), m->key_len},
      .topic = topic,
      .origin = {.partition = m->partition,
                 .offset = m->offset,
                 .broker_time = ts_ms >= 0 ? absl::FromUnixMillis(ts_ms) : absl::InfinitePast(),
                 .replayed = replayed},
  });
  if (replayed) {
    // Committed before: the tracker must not move the commit back to it; what it sent (a fleet
    // alert, a sweep's) holds the commit at the committed position until delivered.
    stats_.replayed.fetch_add(1, std::memory_order_relaxed);
    offsets_.Hold(topic, m->partition, p->replay_until, ts_ms, std::move(ticket));
    if (m->offset + 1 == p->replay_until) {
      p->replay_until = -1;
      --restoring_;
      LogInfo(absl::StrCat("kafka: ", topic, "[", m->partition, "] restored in ",
                           absl::FormatDuration(absl::Trunc(clock_.TimeNow() - p->restore_started,
                                                            absl::Milliseconds(1)))));
    }
    return;
  }
  if (p != nullptr && p->replay_until >= 0) {  // the replay ended early (a gap in offsets)
    p->replay_until = -1;
    --restoring_;
  }
  // A producer's stamp from a wrong clock must not send a restore to the start of retention.
  offsets_.MarkProcessed(topic, m->partition, m->offset, std::move(ticket),
                         std::min(ts_ms, now_ms_));
}

bool KafkaSource::Lagging(const PartitionState& p) const {
  int64_t low = -1, high = -1;  // librdkafka's cached watermarks: no request to the broker
  if (rd_kafka_get_watermark_offsets(rk_.get(), p.topic.c_str(), p.partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0 || p.next_offset < 0) {
    return true;  // not fetched yet
  }
  return high > p.next_offset;
}

void KafkaSource::ReleaseMerged(MessageHandler& handler, absl::Time now) {
  // Beyond this many buffered messages the earliest goes anyway: a partition that stalls must
  // not make the others pile up without bound (its late messages then come out of order).
  constexpr size_t kMaxBuffered = 100000;
  rd_kafka_timestamp_type_t type;
  // A stamp from a producer's wrong clock (2099) sorts as now, not after everything.
  const int64_t now_ms = absl::ToUnixMillis(now);
  while (buffered_ > 0 && !handler.Saturated()) {
    PartitionState* next = nullptr;
    int64_t next_ms = 0;
    bool waiting = false;  // for a partition that may still deliver an earlier message
    for (PartitionState& p : assigned_) {
      if (p.buffered.empty()) {
        // As Kafka Streams: a partition known to hold more (or not fetched yet) is waited for
        // however long its fetch takes; an idle one for merge_wait at most.
        waiting |= !p.at_end && (Lagging(p) || now - p.last_fetch < config_.merge_wait);
        continue;
      }
      const int64_t ms =
          std::min(rd_kafka_message_timestamp(p.buffered.front().get(), &type), now_ms);
      if (next == nullptr || ms < next_ms) {
        next = &p;
        next_ms = ms;
      }
    }
    if (next == nullptr || (waiting && buffered_ < kMaxBuffered)) return;
    KafkaMessage message = std::move(next->buffered.front());
    next->buffered.pop_front();
    --buffered_;
    Deliver(handler, message.get(), next);
  }
}

absl::Status KafkaSource::Run(MessageHandler& handler, const std::atomic<bool>& stop) {
  handler_ = &handler;
  const int poll_ms = static_cast<int>(absl::ToInt64Milliseconds(config_.poll_timeout));
  absl::Time next_commit = clock_.TimeNow() + config_.commit_interval;
  absl::Time next_tick = clock_.TimeNow();
  absl::Status status;
  uint32_t since_check = 0, check_every = 1;  // events since the last clock reading
  absl::Time last_check = clock_.TimeNow();
  now_ms_ = absl::ToUnixMillis(last_check);
  const bool merging = config_.merge_wait > absl::ZeroDuration();
  while (!stop.load(std::memory_order_relaxed)) {
    if (handler.Saturated() != paused_) SetPaused(!paused_);
    KafkaMessage message(rd_kafka_consumer_poll(rk_.get(), poll_ms));
    if (!auth_failure_.empty()) {
      // A member that never joined: its credentials or certificates are wrong, and retrying
      // (librdkafka's way) would wait for ever. One that has joined rides it out instead.
      status = absl::UnauthenticatedError(
          absl::StrCat("kafka: authentication failed (check sasl.username, sasl.password, the "
                       "client certificate and ssl.ca.location): ",
                       auth_failure_));
      break;
    }
    if (const rd_kafka_message_t* m = message.get(); m != nullptr) {
      const char* topic = rd_kafka_topic_name(m->rkt);
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        stats_.messages.store(stats_.messages.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);  // single writer: no locked add
        PartitionState* p = (config_.stop_at_end || merging) ? Find(topic, m->partition) : nullptr;
        if (p != nullptr) {
          p->at_end = false;
          p->end_confirmed = absl::InfinitePast();
          p->next_offset = m->offset + 1;
        }
        if (said_ready_) {  // more to read: the other workers must not stop on its word
          together_->Set(member_, false);
          said_ready_ = false;
        }
        if (merging && p != nullptr) {
          p->last_fetch = last_check;
          p->buffered.push_back(std::move(message));
          ++buffered_;
        } else {
          Deliver(handler, m, p);
        }
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (PartitionState* p = Find(topic, m->partition)) {
          p->at_end = true;
          p->end_confirmed = absl::InfinitePast();
          p->next_offset = m->offset;  // the end when it was fetched
        }
        handler.OnPartitionEnd({topic, m->partition, m->offset});
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
      if (merging) ReleaseMerged(handler, last_check);
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
    now_ms_ = absl::ToUnixMillis(now);
    if (merging) ReleaseMerged(handler, now);
    if (now >= next_commit) {
      CommitProcessed(/*sync=*/false);
      next_commit = now + config_.commit_interval;
    }
    if (now >= next_tick) {
      handler.Tick();
      PublishPartitionStats();
      next_tick = now + absl::Seconds(1);
    }
    if (config_.stop_at_end && AtEnd(handler)) {
      LogInfo(absl::StrCat("kafka: at the end of ", assigned_.size(), " partition(s), ",
                           stats_.messages.load(), " message(s) read"));
      break;
    }
  }
  // Deliver what is queued (within the handler's deadline), then commit what was delivered.
  handler.Drain();
  CommitProcessed(/*sync=*/true);
  PublishPartitionStats();
  for (PartitionState& p : assigned_) p.buffered.clear();  // not processed: read again next time
  buffered_ = 0;
  closing_ = true;
  rd_kafka_consumer_close(rk_.get());
  closed_ = true;
  handler_ = nullptr;
  stats_.joined.store(false);
  return status;
}

}  // namespace faultline

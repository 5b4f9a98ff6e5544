#include "app/pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/log.h"
#include "core/strings.h"
#include "detect/pool_forward.h"
#include "ingest/kafka/kafka_source.h"

namespace faultline {

uint64_t RunStats::rejected() const {
  uint64_t n = 0;
  for (const auto& c : rejected_by_reason) n += c.load(std::memory_order_relaxed);
  return n;
}

Pipeline::Pipeline(std::unique_ptr<EventParser> parser, std::unique_ptr<Engine> engine,
                   std::shared_ptr<Dispatcher> dispatcher, size_t max_message_bytes,
                   std::unique_ptr<RecordOutput> dead_letters, Clock& clock,
                   absl::Duration drain_timeout)
    : parser_(std::move(parser)),
      engine_(std::move(engine)),
      dispatcher_(std::move(dispatcher)),
      max_message_bytes_(max_message_bytes),
      dead_letters_(std::move(dead_letters)),
      clock_(clock),
      drain_timeout_(drain_timeout),
      processing_(engine_.get()) {
  trusted_until_ = clock_.TimeNow() + engine_->options().max_clock_skew;
  PublishDetectorState();
}

void Pipeline::SplitPools(std::string topic, std::string input_topic,
                          std::unique_ptr<Engine> pool_engine, std::unique_ptr<RecordOutput> out) {
  pool_ = std::make_unique<PoolTopic>(PoolTopic{.topic = std::move(topic),
                                                .input_topic = std::move(input_topic),
                                                .engine = std::move(pool_engine),
                                                .out = std::move(out)});
  PublishDetectorState();
}

std::vector<const Detector*> Pipeline::detectors() const {
  std::vector<const Detector*> all;
  for (const Engine* e : {engine_.get(), pool_ ? pool_->engine.get() : nullptr}) {
    if (e == nullptr) continue;
    for (const auto& d : e->detectors()) all.push_back(d.get());
  }
  return all;
}

absl::Status Pipeline::Start() {
  dispatcher_->Start();
  return absl::OkStatus();
}

std::shared_ptr<const DeliveryTicket> Pipeline::Reject(const Message& message, ParseError error) {
  if (message.origin.replayed) return nullptr;
  Bump(stats_.rejected_by_reason[static_cast<int>(error)]);
  if (dead_letters_) {
    ticket_ = std::make_shared<DeliveryTicket>();
    dead_letters_->Publish(DeadLetter(message, error), ticket_);
  }
  return std::move(ticket_);
}

std::shared_ptr<const DeliveryTicket> Pipeline::OnMessage(const Message& message) {
  if (pool_ && message.topic == pool_->topic) return OnPoolRecord(message);
  // A replayed message (a restore) was counted, dead-lettered and delivered on when it was first
  // read: here it only rebuilds the detectors' state.
  const bool replayed = message.origin.replayed;
  if (replayed) {
    Bump(stats_.replayed);
  } else {
    if (stats_.messages.load(std::memory_order_relaxed) == 0) first_message_ = clock_.TimeNow();
    Bump(stats_.messages);
  }
  broker_time_ = message.origin.broker_time;
  if (auto it = input_next_.find(message.origin.partition); it != input_next_.end()) {
    it->second = message.origin.offset + 1;
  }
  ParseError error = message.payload.size() > max_message_bytes_
                         ? ParseError::kTooLarge
                         : parser_->Parse(message.payload, &event_);
  if (error != ParseError::kOk) return Reject(message, error);
  if (!replayed) Bump(stats_.parsed);
  event_.origin = message.origin;
  if (event_.origin.broker_time > trusted_until_) {
    // Not a broker's clock: a producer's, set from a host's (Winlogbeat copies the event time).
    if (!replayed) Bump(stats_.broker_time_ahead);
    event_.origin.broker_time = absl::InfinitePast();
  }
  if (rekeyed_) {
    KafkaRecord record{.key = event_.host, .timestamp = event_.origin.broker_time};
    codec_.Encode(event_, &record.value);
    ticket_ = std::make_shared<DeliveryTicket>();
    rekeyed_->Publish(std::move(record), ticket_);
    return std::move(ticket_);
  }
  replaying_ = replayed;
  const size_t hosts = replayed ? engine_->clocks().hosts() : 0;
  engine_->Process(event_, *this);
  replaying_ = false;
  // A host this member knows only from a restore: another member counted it already.
  if (replayed && engine_->clocks().hosts() > hosts) Bump(stats_.restored_hosts);
  // Null unless an alert was raised: most messages start no delivery (a replayed one none).
  return std::move(ticket_);
}

std::shared_ptr<const DeliveryTicket> Pipeline::OnPoolRecord(const Message& message) {
  const bool replayed = message.origin.replayed;
  Bump(replayed ? stats_.replayed : stats_.pool_records);
  pool_->read[message.origin.partition] = message.origin.offset;
  pool_partition_ = message.origin.partition;
  int64_t end = -1;
  // Records this service wrote: one that does not decode is still counted and dead-lettered.
  if (!codec_.Decode(message.payload, &event_, &end) || event_.origin.partition < 0) {
    if (replayed) return nullptr;
    Bump(stats_.pool_rejected);
    if (dead_letters_) {
      ticket_ = std::make_shared<DeliveryTicket>();
      dead_letters_->Publish(DeadLetter(message, ParseError::kNotEventProto), ticket_);
    }
    return std::move(ticket_);
  }
  if (!message.key.empty()) {
    auto& pools = pool_->pools_of[message.origin.partition];
    if (!pools.contains(ToAbsl(message.key))) {
      pools.emplace(message.key);
      pool_->partition_of[std::string(message.key)] = message.origin.partition;
    }
  }
  // The pool engine's arrival clock runs per lane (see PoolTopic); its replay bookkeeping is
  // this topic's.
  const int32_t lane = Lane(message.origin.partition, event_.origin.partition);
  event_.origin.partition = lane;
  event_.origin.offset = message.origin.offset;
  if (pool_->passed_any) {
    auto checked = pool_->checked_below.find(message.origin.partition);
    if (checked == pool_->checked_below.end() || message.origin.offset >= checked->second) {
      HoldEndedLanes();
    }
  }
  event_.origin.replayed = replayed;
  broker_time_ = event_.origin.broker_time;
  Engine& engine = *pool_->engine;
  replaying_ = replayed;
  processing_ = &engine;
  if (event_.host.empty()) {  // a heartbeat: the partition's clock moved, or it reached its end
    event_.time = event_.origin.broker_time;
    if (event_.time != absl::InfinitePast()) engine.Process(event_, *this);
    // Its end is taken once CheckEnds has checked it; until then the lane holds the clock.
    Unclaim(lane);
    if (end >= 0) pool_->ended.emplace(lane, PoolTopic::Ended{.end = end});
  } else {
    Unclaim(lane);
    engine.Process(event_, *this);
  }
  processing_ = engine_.get();
  replaying_ = false;
  return std::move(ticket_);
}

int32_t Pipeline::Lane(int32_t partition, int32_t input) {
  auto [it, added] =
      pool_->lanes.try_emplace({partition, input}, static_cast<int32_t>(pool_->lanes.size()));
  if (added) {
    pool_->lanes_of[partition].push_back(it->second);
    pool_->input_of.push_back(input);
  }
  return it->second;
}

void Pipeline::ForwardToPool(const Event& event) {
  if (replaying_) return;  // forwarded when first read, before its commit
  KafkaRecord record{.timestamp = event.origin.broker_time};
  PoolKey(event.app_pool, &record.key);
  codec_.EncodeWithOrigin(event, &record.value);
  if (!ticket_) ticket_ = std::make_shared<DeliveryTicket>();
  pool_->out->Publish(std::move(record), ticket_);
  Bump(stats_.pool_forwarded);
}

void Pipeline::SendHeartbeats() {
  const int partitions = pool_->out->Partitions(clock_.TimeNow());
  for (auto& [input, state] : pool_->inputs) {
    const absl::Time clock = engine_->clocks().PartitionNow(input);
    const int64_t end = engine_->clocks().PartitionAtEnd(input) ? state.end : -1;
    if (state.sent && clock == state.sent_clock && end == state.sent_end) continue;
    // To every partition of the pool topic: each may hold a pool whose incident waits for this
    // partition's time to pass.
    for (int p = 0; p < partitions; ++p) {
      KafkaRecord record{.timestamp = clock, .partition = p};
      codec_.EncodeHeartbeat(input, clock, end, &record.value);
      pool_->out->Publish(std::move(record), nullptr);
    }
    if (partitions > 0) {
      state.sent = true;
      state.sent_clock = clock;
      state.sent_end = end;
    }
  }
}

bool Pipeline::EndsWaiting() const {
  for (const auto& [lane, ended] : pool_->ended) {
    if (!ended.passed) return true;
  }
  return false;
}

void Pipeline::CheckEnds(bool now_or_never) {
  const absl::Time now = clock_.TimeNow();
  if (!EndsWaiting() || (!now_or_never && now - pool_->last_check < kEndCheckInterval)) return;
  pool_->last_check = now;
  // The pool topic's ends first: a record below them was written before the input's ends are
  // asked, so what its writer had read then is within them.
  std::vector<int32_t> held;
  for (const auto& [partition, read] : pool_->read) held.push_back(partition);
  if (held.empty()) return;
  // Every claimed end, those passed before too: the check replaces the pool topic's ends
  // (checked_below) that guarded them.
  std::vector<int32_t> inputs;
  for (const auto& [lane, ended] : pool_->ended) inputs.push_back(pool_->input_of[lane]);
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  constexpr absl::Duration kTimeout = absl::Seconds(1);
  absl::StatusOr<std::vector<int64_t>> below = pool_->out->EndOffsets(pool_->topic, held, kTimeout);
  absl::StatusOr<std::vector<int64_t>> ends =
      below.ok() ? pool_->out->EndOffsets(pool_->input_topic, inputs, kTimeout) : below.status();
  if (!ends.ok()) {  // the lanes keep holding the clock; asked again at the next check
    Bump(stats_.end_check_failures);
    return;
  }
  for (size_t i = 0; i < held.size(); ++i) pool_->checked_below[held[i]] = (*below)[i];
  Engine& engine = *pool_->engine;
  bool passed = false;
  pool_->passed_any = false;
  for (auto& [lane, ended] : pool_->ended) {
    const size_t i =
        std::lower_bound(inputs.begin(), inputs.end(), pool_->input_of[lane]) - inputs.begin();
    if ((*ends)[i] > ended.end) {
      // Appended to since its owner read it to its end: it holds the clock until its owner
      // says how far it has read (even with no clock yet: an input partition that was empty).
      ended.passed = false;
      engine.PartitionsAssigned({lane});
      continue;
    }
    passed = passed || !ended.passed;
    ended.passed = true;
    pool_->passed_any = true;
    engine.PartitionEnd(lane);
  }
  if (!passed) return;
  // Its clock may have moved on: incidents of the pools resolve.
  processing_ = &engine;
  engine.Sweep(*this);
  processing_ = engine_.get();
  // The resolutions are tracked until delivered (RestoreFrom): no message waits for them.
  ticket_.reset();
}

void Pipeline::Unclaim(int32_t lane) {
  auto it = pool_->ended.find(lane);
  if (it == pool_->ended.end()) return;
  // A lane let pass holds the clock again (a heartbeat without a clock moves none of it: a
  // member taking the partition over says so before it has read anything).
  if (it->second.passed) pool_->engine->PartitionsAssigned({lane});
  pool_->ended.erase(it);
}

void Pipeline::HoldEndedLanes() {
  std::vector<int32_t> lanes;
  for (auto& [lane, ended] : pool_->ended) {
    if (!ended.passed) continue;
    ended.passed = false;
    lanes.push_back(lane);
  }
  pool_->engine->PartitionsAssigned(lanes);
  pool_->passed_any = false;
}

void Pipeline::OnPartitionsAssigned(const std::vector<TopicPartition>& partitions) {
  std::vector<int32_t> inputs;
  for (const TopicPartition& tp : partitions) {
    if (pool_ && tp.topic == pool_->topic) {
      pool_->read.try_emplace(tp.partition, -1);
      continue;  // the pool engine's clocks are lanes, not partitions
    }
    inputs.push_back(tp.partition);
    input_next_.try_emplace(tp.partition, -1);
    if (pool_) pool_->inputs[tp.partition] = {};
  }
  engine_->PartitionsAssigned(inputs);
}

void Pipeline::OnPartitionsRevoked(const std::vector<TopicPartition>& partitions) {
  std::vector<int32_t> inputs;
  for (const TopicPartition& tp : partitions) {
    // Its next owner rebuilds what is open there from the commit's restore point.
    const bool pool_topic = pool_ && tp.topic == pool_->topic;
    open_.erase(open_.lower_bound({pool_topic, tp.partition, ""}),
                open_.lower_bound({pool_topic, tp.partition + 1, ""}));
    if (pool_ && tp.topic == pool_->topic) {
      // Its lanes are no longer this member's to wait for, its pools no longer its to count.
      pool_->engine->PartitionsRevoked(pool_->lanes_of[tp.partition]);
      for (int32_t lane : pool_->lanes_of[tp.partition]) pool_->ended.erase(lane);
      pool_->checked_below.erase(tp.partition);
      pool_->engine->Forget(StateKey::kAppPool, pool_->pools_of[tp.partition]);
      for (const std::string& pool : pool_->pools_of[tp.partition]) {
        pool_->partition_of.erase(pool);
      }
      pool_->pools_of.erase(tp.partition);
      pool_->read.erase(tp.partition);
      continue;
    }
    inputs.push_back(tp.partition);
    input_next_.erase(tp.partition);
    if (pool_) pool_->inputs.erase(tp.partition);  // its next owner sends its clock
  }
  engine_->PartitionsRevoked(inputs);
}

void Pipeline::OnPartitionEnd(const TopicPartition& partition) {
  if (pool_ && partition.topic == pool_->topic) {
    // Read to its end: whatever was written to it before is behind this member.
    auto it = pool_->read.find(partition.partition);
    if (it != pool_->read.end()) it->second = std::max(it->second, partition.end - 1);
    return;
  }
  engine_->PartitionEnd(partition.partition);
  if (pool_) {
    if (auto it = pool_->inputs.find(partition.partition); it != pool_->inputs.end()) {
      it->second.end = partition.end;
    }
  }
}

bool Pipeline::Settled() {
  if (!pool_) return true;
  // Everything written to the pool topic is out, and what went to its partitions this member
  // holds has been read back (those of other members are theirs to read).
  SendHeartbeats();  // the input's ends too: the pool engine's time passes them
  CheckEnds(/*now_or_never=*/true);
  pool_->out->Poll();
  // An end read and not yet checked: the pool engine's last sweep is still to come.
  if (pool_->out->pending() > 0 || EndsWaiting()) return false;
  for (const auto& [partition, offset] : pool_->out->delivered_offsets()) {
    auto it = pool_->read.find(partition);
    if (it != pool_->read.end() && it->second < offset) return false;
  }
  return true;
}

int64_t Pipeline::RestoreFrom(const TopicPartition& partition, int64_t offset) {
  const bool pool_topic = pool_ && partition.topic == pool_->topic;
  int64_t from = -1;
  auto it = open_.lower_bound({pool_topic, partition.partition, ""});
  const auto end = open_.lower_bound({pool_topic, partition.partition + 1, ""});
  while (it != end) {
    const OpenIncident& open = it->second;
    // Resolved by a message the commit passes, the resolution delivered: done with.
    if (open.resolved && open.closed_at <= offset &&
        (open.resolution == nullptr || open.resolution->done())) {
      it = open_.erase(it);
      continue;
    }
    from = from < 0 ? open.since_ms : std::min(from, open.since_ms);
    ++it;
  }
  return from;
}

void Pipeline::ForgetOldIncidents() {
  if (open_.empty()) return;
  const absl::Time newest = engine_->clocks().stream_now();
  if (newest == absl::InfinitePast()) return;
  const int64_t oldest = absl::ToUnixMillis(newest - KafkaSourceConfig::kMaxRestoreLookback);
  std::erase_if(open_, [oldest](const auto& entry) { return entry.second.since_ms < oldest; });
}

void Pipeline::TrackIncident(const Alert& alert, std::shared_ptr<const DeliveryTicket> ticket) {
  if ((input_next_.empty() && !pool_) || !alert.has_first_event_time()) return;  // no restore
  // Kafka time from event time: a host's clock may run up to max_clock_skew ahead uncorrected.
  const int64_t since = absl::ToUnixMillis(FromProtoTime(alert.first_event_time()) -
                                           engine_->options().max_clock_skew);
  const bool resolved = alert.status() == "resolved";
  auto track = [&](bool pool_topic, int32_t partition, int64_t next) {
    auto [it, added] =
        open_.try_emplace({pool_topic, partition, alert.fingerprint()}, OpenIncident{since});
    OpenIncident& open = it->second;
    open.since_ms = std::min(open.since_ms, since);
    open.resolved = resolved;
    open.closed_at = next;
    open.resolution = resolved ? ticket : nullptr;
  };
  if (processing_ != engine_.get()) {
    // The pool engine: the pool's partition of the pool topic (a sweep resolves pools of every
    // partition, whichever record started it).
    std::string key;
    PoolKey(alert.app_pool(), &key);
    auto it = pool_->partition_of.find(key);
    const int32_t partition = it != pool_->partition_of.end() ? it->second : pool_partition_;
    track(true, partition, pool_->read[partition] + 1);
    return;
  }
  if (alert.host().empty()) {  // a fleet incident: hosts of every partition
    for (const auto& [input, next] : input_next_) track(false, input, next);
    return;
  }
  const int32_t partition = engine_->clocks().PartitionOf(alert.host());
  if (auto it = input_next_.find(partition); it != input_next_.end()) {
    track(false, partition, it->second);
  }
}

bool Pipeline::RaisedBefore(const Alert& alert) const {
  // What a replayed message raised about its own key was raised by it before (a host's events
  // are on one partition of the input, a pool's on one of the pool topic, in order) and
  // delivered before the commit passed it: the incident is open again, nothing is sent.
  // Everything else rests on other partitions' progress and on when the committing member's
  // sweep ran, which a restore does not reproduce: what the periodic sweep raises (it may have
  // run there only after the commit) and a fleet incident in the input's engine. It is sent, at
  // worst twice, rather than lost. (Held back too, a sweep's alert could be lost: the committing
  // member may have crossed the same threshold before its commit and swept after it.)
  if (!replaying_ || processing_->sweeping()) return false;
  if (processing_ != engine_.get()) return true;  // the pool engine: every alert is the pool's
  return !alert.host().empty() && alert.host() == event_.host;
}

void Pipeline::Emit(Alert alert) {
  {
    std::lock_guard<std::mutex> lock(stats_.mu);
    RunStats::Alerts& a = stats_.alerts_detail;
    int64_t& active = a.active_by_rule[alert.rule()];
    if (alert.status() == "resolved") {
      --active;
    } else if (alert.sequence() == 1) {
      ++active;
    }
    if (!RaisedBefore(alert)) {
      ++a.by_rule_severity_status[{alert.rule(), alert.severity(), alert.status()}];
    }
  }
  if (RaisedBefore(alert)) {
    TrackIncident(alert, nullptr);
    Bump(stats_.replay_alerts);
    return;
  }
  Bump(stats_.alerts);
  const absl::Time now = clock_.TimeNow();
  stats_.event_to_alert.Observe(
      std::max(absl::ZeroDuration(), now - FromProtoTime(alert.last_event_time())));
  if (broker_time_ != absl::InfinitePast()) {
    stats_.broker_to_alert.Observe(std::max(absl::ZeroDuration(), now - broker_time_));
  }
  if (!ticket_) ticket_ = std::make_shared<DeliveryTicket>();
  TrackIncident(alert, ticket_);
  dispatcher_->Submit(std::make_shared<const Alert>(std::move(alert)), ticket_);
}

void Pipeline::PublishDetectorState() {
  std::vector<RunStats::DetectorState> state;
  for (const Detector* d : detectors()) {
    const Detector::Stats s = d->stats();
    state.push_back({std::string(d->name()), s.keys, s.evictions});
  }
  std::lock_guard<std::mutex> lock(stats_.mu);
  stats_.detectors = std::move(state);
  stats_.hosts = engine_->clocks().hosts();
  stats_.host_evictions = engine_->clocks().evictions();
}

void Pipeline::Tick() {
  const absl::Time now = clock_.TimeNow();
  trusted_until_ = now + engine_->options().max_clock_skew;
  stats_.last_tick_unix_ms.store(absl::ToUnixMillis(now), std::memory_order_relaxed);
  PublishDetectorState();
  ForgetOldIncidents();
  if (dead_letters_) dead_letters_->Poll();
  if (rekeyed_) rekeyed_->Poll();
  if (pool_) {
    SendHeartbeats();
    CheckEnds();
    pool_->out->Poll();
  }
}

void Pipeline::Drain() {
  if (drained_) return;
  drained_ = true;
  drain_started_ = clock_.TimeNow();
  PublishDetectorState();
  // One deadline for all of it: the records first (their messages commit once they are out),
  // then the alerts, each given what is left.
  const absl::Time deadline = drain_started_ + drain_timeout_;
  auto left = [&] { return std::max(absl::ZeroDuration(), deadline - clock_.TimeNow()); };
  for (RecordOutput* records :
       {dead_letters_.get(), rekeyed_.get(), pool_ ? pool_->out.get() : nullptr}) {
    if (records == nullptr) continue;
    if (absl::Status s = records->Flush(left()); !s.ok()) LogError(s.message());
  }
  // The dispatcher may be shared with other workers: it is stopped by its owner (the service),
  // after every worker drained.
  dispatcher_->WaitIdle(left());
}

uint64_t Pipeline::sink_failures() const {
  uint64_t n = 0;
  for (const Dispatcher::SinkInfo& sink : dispatcher_->sinks()) {
    n += sink.stats.failed.load() + sink.stats.dropped.load();
  }
  return n;
}

std::string Pipeline::SummaryJson(const std::vector<const Pipeline*>& pipelines) {
  // Every worker's counters summed; the sinks are their shared dispatcher's.
  auto sum = [&pipelines](auto&& value) {
    uint64_t n = 0;
    for (const Pipeline* p : pipelines) n += value(*p);
    return n;
  };
  auto run = [&sum](std::atomic<uint64_t> RunStats::*counter) {
    return sum([counter](const Pipeline& p) { return (p.stats_.*counter).load(); });
  };
  auto engine = [&sum](std::atomic<uint64_t> EngineStats::*counter) {
    return sum([counter](const Pipeline& p) { return (p.engine_->stats().*counter).load(); });
  };
  std::string reasons, rules, sinks;
  for (int i = 1; i < kParseErrorCount; ++i) {
    const uint64_t n = sum([i](const Pipeline& p) {
      return p.stats_.rejected_by_reason[i].load(std::memory_order_relaxed);
    });
    if (n == 0) continue;
    absl::StrAppend(&reasons, reasons.empty() ? "" : ",", "\"",
                    ToAbsl(ParseErrorName(static_cast<ParseError>(i))), "\":", n);
  }
  uint64_t keys = 0, evictions = 0;
  std::map<std::string, uint64_t> by_rule;
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
  for (const Pipeline* p : pipelines) {
    for (const Detector* d : p->detectors()) {
      keys += d->stats().keys;
      evictions += d->stats().evictions;
    }
    std::lock_guard<std::mutex> lock(p->stats_.mu);
    for (const auto& [key, n] : p->stats_.alerts_detail.by_rule_severity_status) {
      by_rule[std::get<0>(key)] += n;
    }
    // From the first message to the start of the drain (or now, while running).
    if (p->stats_.messages.load() == 0) continue;
    first = std::min(first, p->first_message_);
    last = std::max(last, p->drained_ ? p->drain_started_ : p->clock_.TimeNow());
  }
  for (const auto& [rule, n] : by_rule) {
    absl::StrAppend(&rules, rules.empty() ? "" : ",", "\"", rule, "\":", n);
  }
  const Pipeline& any = *pipelines.front();
  for (const Dispatcher::SinkInfo& sink : any.dispatcher_->sinks()) {
    const SinkStats& st = sink.stats;
    absl::StrAppend(&sinks, sinks.empty() ? "" : ",", "\"", sink.name,
                    "\":{\"delivered\":", st.delivered.load(), ",\"failed\":", st.failed.load(),
                    ",\"retried\":", st.retried.load(), ",\"dropped\":", st.dropped.load(),
                    ",\"queued\":", st.queued.load(), "}");
  }
  // 0 until some worker has read a message.
  const double seconds = last == absl::InfinitePast() ? 0 : absl::ToDoubleSeconds(last - first);
  const uint64_t replayed = run(&RunStats::replayed);
  return absl::StrCat(
      "{\"events\":", run(&RunStats::messages), ",\"parsed\":", run(&RunStats::parsed),
      ",\"rejected\":", sum([](const Pipeline& p) { return p.stats_.rejected(); }),
      ",\"rejected_by_reason\":{", reasons, "},\"duplicates\":", engine(&EngineStats::duplicates),
      ",\"too_late\":", engine(&EngineStats::too_late),
      ",\"too_old\":", engine(&EngineStats::too_old),
      ",\"clock_ahead\":", engine(&EngineStats::clock_ahead),
      ",\"alerts\":", run(&RunStats::alerts), ",\"alerts_by_rule\":{", rules,
      "},\"hosts\":", sum([](const Pipeline& p) { return p.engine_->clocks().hosts(); }),
      ",\"host_evictions\":",
      sum([](const Pipeline& p) { return p.engine_->clocks().evictions(); }),
      ",\"state_keys\":", keys, ",\"state_evictions\":", evictions,
      ",\"sink_failures\":", any.sink_failures(), ",\"sinks\":{", sinks, "}",
      any.rekeyed_ ? absl::StrCat(",\"rekeyed\":", sum([](const Pipeline& p) {
                                    return p.rekeyed_->stats().delivered.load();
                                  }))
                   : "",
      any.pool_ ? absl::StrCat(",\"pool_forwarded\":", run(&RunStats::pool_forwarded),
                               ",\"pool_records\":", run(&RunStats::pool_records),
                               ",\"pool_rejected\":", run(&RunStats::pool_rejected))
                : "",
      replayed > 0 ? absl::StrCat(",\"replayed\":", replayed,
                                  ",\"replay_alerts\":", run(&RunStats::replay_alerts),
                                  ",\"restored_hosts\":", run(&RunStats::restored_hosts))
                   : "",
      ",\"seconds\":", absl::StrFormat("%.3f", seconds), "}");
}

}  // namespace faultline

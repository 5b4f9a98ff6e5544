#include "detect/engine.h"

#include <algorithm>
#include <tuple>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "core/unix_nanos.h"
#include "detect/alert_builder.h"

namespace faultline {

// Adds what only the engine knows to every alert a detector emits while it handles one event:
// how late the alert is against the arrival clock, and the clock offset of its host.
class Engine::StampedOutput final : public AlertOutput {
 public:
  StampedOutput(const Engine& engine, absl::Time arrival, AlertOutput& out)
      : engine_(engine), arrival_(arrival), out_(out) {}

  void Emit(Alert alert) override {
    const absl::Duration delay =
        std::max(absl::ZeroDuration(), arrival_ - FromProtoTime(alert.last_event_time()));
    alert.set_detection_delay_seconds(absl::ToDoubleSeconds(delay));
    // The engine itself holds a resolution back by the lateness and up to a tick: say so only
    // beyond that, when the events themselves arrived late.
    const EngineOptions& o = engine_.options_;
    if (delay > std::max(absl::Minutes(5), o.allowed_lateness + o.tick)) {
      alert.set_summary(
          absl::StrCat(alert.summary(), " Detected ", HumanDuration(delay), " after it happened."));
    }
    if (!alert.host().empty()) {
      const absl::Duration offset = engine_.clocks_.ClockOffset(alert.host());
      if (offset > absl::ZeroDuration()) {
        alert.set_host_clock_offset_seconds(absl::ToDoubleSeconds(offset));
        alert.set_summary(absl::StrCat(alert.summary(), " The host's clock runs ",
                                       HumanDuration(offset),
                                       " ahead; its event times here are corrected."));
      }
    }
    out_.Emit(std::move(alert));
  }

 private:
  const Engine& engine_;
  absl::Time arrival_;
  AlertOutput& out_;
};

Engine::Engine(std::vector<std::unique_ptr<Detector>> detectors, EngineOptions options)
    : detectors_(std::move(detectors)),
      options_(options),
      clocks_({.allowed_lateness = options.allowed_lateness,
               .max_clock_skew = options.max_clock_skew,
               .max_hosts = options.max_hosts}),
      max_clock_skew_ns_(Nanos(options.max_clock_skew)),
      max_event_age_ns_(Nanos(options.max_event_age)) {
  for (const auto& d : detectors_) {
    const std::vector<EventKey> keys = d->Subscriptions();
    if (std::any_of(keys.begin(), keys.end(), [](const EventKey& k) { return k.every_event; })) {
      every_.push_back(d.get());  // and in no route: it sees each event once
      continue;
    }
    auto route = [&](Provider provider, uint32_t id) {
      std::vector<Detector*>& list = routes_[RouteKey(provider, id)];
      if (list.empty() || list.back() != d.get()) list.push_back(d.get());
      if (id < routed_ids_.size()) routed_ids_[id] = true;
    };
    for (const EventKey& key : keys) {
      if (!key.any_provider) {
        route(key.provider, key.event_id);
        continue;
      }
      for (int p = 0; p < kProviderCount; ++p) route(static_cast<Provider>(p), key.event_id);
    }
  }
  wanting_.reserve(every_.size());  // filled per event, never grown
}

void Engine::Process(Event& event, AlertOutput& out) {
  counting_ = !event.origin.replayed;  // a replayed event was counted when first read
  const absl::Time logged = event.time;
  // Integer nanoseconds on this path, which every message takes (core/unix_nanos.h).
  const int64_t logged_ns = UnixNanos(logged);
  const EventClocks::Arrived arrived =
      clocks_.Arrive(event.origin.partition, event.origin.broker_time, logged_ns, event.host);
  const absl::Time arrival = arrived.time;
  StampedOutput stamped(*this, arrival, out);
  const int64_t skew = logged_ns - arrived.time_ns;
  if (arrived.broker) {
    if (max_event_age_ns_ > 0 && skew < -max_event_age_ns_) {
      // A forwarder re-reading an old log (a reset bookmark): skipped before it moves any clock.
      Count(stats_.too_old);
      return MaybeTick(stamped);
    }
    if (!event.origin.replayed) stats_.skew.Observe(skew);
  }
  const bool ahead = arrived.judge && skew > max_clock_skew_ns_;
  // Most events have an id no detector subscribes to under any provider: one bit says so (ids
  // beyond 16 bits, which Windows does not log, are looked up).
  const bool maybe_routed = event.event_id >= routed_ids_.size() || routed_ids_[event.event_id];
  const auto it =
      maybe_routed ? routes_.find(RouteKey(event.provider, event.event_id)) : routes_.end();
  static const std::vector<Detector*> kNone;
  const std::vector<Detector*>& routed = it == routes_.end() ? kNone : it->second;
  wanting_.clear();
  for (Detector* d : every_) {
    if (d->Wants(event)) wanting_.push_back(d);
  }
  if (routed.empty() && wanting_.empty()) {
    // No detector wants it (most events): it costs the arrival clock and this lookup, no more.
    if (ahead) Count(stats_.clock_ahead);
    return MaybeTick(stamped);
  }
  event.arrival = arrival;
  if (IsRepeat(event, logged)) {
    Count(stats_.duplicates);
    return MaybeTick(stamped);
  }
  if (!options_.judge_hosts) {
    // Judged by the engine that read it (corrected and on time), and reordered since.
    for (Detector* d : routed) d->OnEvent(event, stamped);
    for (Detector* d : wanting_) d->OnEvent(event, stamped);
    return MaybeTick(stamped);
  }
  if (ahead) Count(stats_.clock_ahead);
  const EventClocks::Observation seen = clocks_.Observe(event.host, event.channel, logged,
                                                        logged_ns, arrived, event.origin.partition);
  event.time = seen.time;
  event.host_clock = seen.host.value;
  if (!seen.late) {
    for (Detector* d : routed) d->OnEvent(event, stamped);
    for (Detector* d : wanting_) d->OnEvent(event, stamped);
  } else {
    bool used = false;
    for (Detector* d : routed) used |= d->OnLateEvent(event, stamped);
    for (Detector* d : wanting_) used |= d->OnLateEvent(event, stamped);
    if (!used) Count(stats_.too_late);
  }
  MaybeTick(stamped);
}

void Engine::PartitionsAssigned(const std::vector<int32_t>& partitions) {
  for (int32_t p : partitions) clocks_.Assign(p);
}

void Engine::PartitionsRevoked(const std::vector<int32_t>& partitions) {
  absl::flat_hash_set<std::string> hosts;
  for (int32_t p : partitions) {
    clocks_.Revoke(p);
    clocks_.ForgetPartitionHosts(p, &hosts);
    // Its records are the next owner's to deduplicate; read here again, they are new.
    const size_t index = p < 0 ? 0 : static_cast<size_t>(p) + 1;
    if (index < seen_order_.size()) {
      ArrivalOrder& order = seen_order_[index];
      for (size_t i = order.head; i < order.items.size(); ++i) {
        const auto [arrival, key] = order.items[i];
        if (auto found = seen_.find(key);
            found != seen_.end() && found->second.arrival == arrival) {
          seen_.erase(found);
        }
      }
      order = {};
    }
  }
  Forget(StateKey::kHost, hosts);
}

void Engine::Forget(StateKey kind, const absl::flat_hash_set<std::string>& keys) {
  if (keys.empty()) return;
  for (const auto& d : detectors_) {
    if (d->state_key() == kind) d->Forget(keys);
  }
}

void Engine::Tick(AlertOutput& out) {
  const absl::Time now = clocks_.stream_now();
  if (now == absl::InfinitePast()) return;
  // A consumer catching up reads its partitions at different paces: once the newest has stopped
  // the others still move the arrival clock of the slowest (what no single host owns resolves
  // on it). Looked at every 1024 messages: it costs a pass over the partitions.
  if (now < next_tick_ && clocks_.Arrival() < next_slow_tick_) return;
  clocks_.BeginSweep();
  sweeping_ = true;
  for (const auto& d : detectors_) d->OnWatermark(clocks_, out);
  sweeping_ = false;
  clocks_.EndSweep();
  next_tick_ = now + options_.tick;
  next_slow_tick_ = clocks_.Arrival() + options_.tick;
}

bool Engine::IsRepeat(const Event& event, absl::Time logged) {
  if (event.record_id == 0 || options_.dedupe_window <= absl::ZeroDuration()) return false;
  const uint64_t key = absl::Hash<std::tuple<absl::string_view, absl::string_view, uint64_t>>{}(
      {event.host, event.channel, event.record_id});
  auto [it, inserted] = seen_.try_emplace(key, SeenRecord{logged, event.arrival});
  // The same record logs the same time; a record id reused much later (a cleared log) does not.
  if (!inserted && absl::AbsDuration(logged - it->second.logged) <= options_.dedupe_window) {
    return true;
  }
  it->second = {logged, event.arrival};
  // Redeliveries come soon after the original, in arrival terms however late both are, and on
  // the same partition: forgotten on that partition's clock (a consumer catching up reads its
  // partitions at different paces).
  const size_t index = event.origin.partition < 0 ? 0 : event.origin.partition + 1;
  if (index >= seen_order_.size()) seen_order_.resize(index + 1);
  auto& order = seen_order_[index];
  order.items.emplace_back(event.arrival, key);
  const absl::Time horizon = clocks_.PartitionNow(event.origin.partition) - options_.dedupe_window;
  while (order.head < order.items.size() && order.items[order.head].first < horizon) {
    const auto [arrival, old] = order.items[order.head++];
    if (auto found = seen_.find(old); found != seen_.end() && found->second.arrival == arrival) {
      seen_.erase(found);
    }
  }
  // Compacted in place once the forgotten half is large: no allocation, amortized O(1).
  if (order.head >= 1024 && order.head * 2 >= order.items.size()) {
    order.items.erase(order.items.begin(),
                      order.items.begin() + static_cast<ptrdiff_t>(order.head));
    order.head = 0;
  }
  return false;
}

}  // namespace faultline

#include "detect/fleet/fleet_app_pool_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "detect/alert_builder.h"
#include "detect/pool_forward.h"

namespace faultline {

const settings::Schema<FleetThresholds>& FleetThresholds::Schema() {
  using T = FleetThresholds;
  static const auto* schema =
      &(*new settings::Schema<T>("When a pool's failures across hosts fire."))
           .Integer("min_hosts", &T::min_hosts, 2, 100000,
                    "Hosts with a failure of the pool within the window that fire.")
           .Duration("window", &T::window, settings::Bound::kPositive,
                     "How close together the hosts' failures must be.");
  return *schema;
}

const settings::Schema<FleetConfig>& FleetConfig::Schema() {
  static const auto* schema =
      &(*new settings::Schema<FleetConfig>(
            "The same application pool failing on several hosts at once (a bad deployment or "
            "patch): over the hosts of the partitions this instance reads, or with "
            "ingest.pool_topic over every instance's."))
           .Bool("enabled", &FleetConfig::enabled, "Turns the detector off.")
           .Inline(&FleetConfig::thresholds, FleetThresholds::Schema())
           .Overrides("overrides", &FleetConfig::overrides,
                      {{{"app_pool", "Application pool pattern (* and ?)."}}},
                      FleetThresholds::Schema(), "Per pool pattern, tried in order.");
  return *schema;
}

absl::StatusOr<std::unique_ptr<Detector>> FleetAppPoolDetector::Create(
    const FleetConfig& config, const DetectorContext& context) {
  if (!config.enabled) return nullptr;
  return std::unique_ptr<Detector>(new FleetAppPoolDetector(config, context));
}

FleetAppPoolDetector::FleetAppPoolDetector(const FleetConfig& config,
                                           const DetectorContext& context)
    : config_(config),
      renotify_(context.renotify_interval),
      lateness_(context.allowed_lateness),
      labels_(context.labels),
      thresholds_(config.thresholds, config.overrides, FleetThresholds::Schema()),
      pools_(context.max_keys) {}

std::vector<EventKey> FleetAppPoolDetector::Subscriptions() const {
  std::vector<EventKey> keys;
  for (const EventId& e : kWorkerFailureEvents) keys.push_back({e.provider, e.id});
  return keys;
}

void FleetAppPoolDetector::Prune(PoolState& state, absl::Time arrival) const {
  const absl::Time horizon = arrival - 2 * state.thresholds->window - lateness_;
  for (auto it = state.hosts.begin(); it != state.hosts.end();) {
    if (it->second.arrival < horizon) {
      state.hosts.erase(it++);
    } else {
      ++it;
    }
  }
  state.prune_at = std::max<size_t>(64, 2 * state.hosts.size());
}

FleetAppPoolDetector::Window FleetAppPoolDetector::Around(const PoolState& state, absl::Time t) {
  const absl::Duration width = state.thresholds->window;
  times_.clear();
  for (const auto& [host, f] : state.hosts) {
    if (absl::AbsDuration(f.time - t) < width) times_.push_back(f.time);
  }
  std::sort(times_.begin(), times_.end());
  // Every window [s, s + width) that holds t starts at one of the failures before it.
  Window best;
  for (size_t i = 0; i < times_.size() && times_[i] <= t; ++i) {
    const size_t end = std::lower_bound(times_.begin() + static_cast<ptrdiff_t>(i), times_.end(),
                                        times_[i] + width) -
                       times_.begin();
    if (end - i > best.hosts) best = {static_cast<uint32_t>(end - i), times_[i], times_[end - 1]};
  }
  return best;
}

std::vector<std::string> FleetAppPoolDetector::Hosts(const PoolState& state) const {
  std::vector<std::string> hosts;
  for (const auto& [host, failure] : state.hosts) {
    if (failure.time >= state.counted_from && failure.time <= state.counted_to) {
      hosts.push_back(host);
    }
  }
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

void FleetAppPoolDetector::OnEvent(const Event& event, AlertOutput& out) {
  if (event.app_pool.empty()) return;
  PoolKey(event.app_pool, &key_);
  auto [state, inserted] = pools_.FindOrCreate(key_, ThresholdsFor(event.app_pool));
  if (inserted) state->pool = event.app_pool;
  const absl::Duration window = state->thresholds->window;
  // A failure a whole window (and the lateness) after the incident ends it: a new one begins.
  // Not one stamped ahead of its own arrival: a host's fast clock must not end anyone's incident.
  if (state->incident_start != absl::InfinitePast() &&
      event.time - lateness_ >= state->counted_to + window &&
      event.time <= event.arrival + lateness_) {
    End(key_, *state, out);
  }
  state->last_seen = std::max(state->last_seen, event.arrival);
  HostFailure& latest = state->hosts[ToAbsl(event.host)];
  if (event.time >= latest.time) {
    latest = {event.time, event.arrival, event.provider, event.event_id, event.pid};
  }
  // The count is exact only when it is about to matter (the pool may be at its threshold, or an
  // update is due); pruning is amortized (when the map doubled).
  if (state->hosts.size() >= state->prune_at) Prune(*state, event.arrival);
  const size_t size = state->hosts.size();
  if (state->alert.firing()) {
    // The incident is every failure within a window of it: a rollout grows it host by host.
    if (event.time >= state->counted_from - window && event.time <= state->counted_to + window) {
      state->counted_from = std::min(state->counted_from, event.time);
      state->counted_to = std::max(state->counted_to, event.time);
    }
    if (!state->alert.WouldUpdate(static_cast<uint32_t>(size), event.time, renotify_)) return;
    const uint32_t hosts = static_cast<uint32_t>(Hosts(*state).size());
    if (state->alert.Observe(hosts, event.time, renotify_) != AlertState::Action::kNone) {
      Emit(key_, *state, event.time, out);
    }
    return;
  }
  if (size < static_cast<size_t>(state->thresholds->min_hosts)) return;
  const Window w = Around(*state, event.time);
  if (w.hosts < static_cast<uint32_t>(state->thresholds->min_hosts)) return;
  state->incident_start = state->counted_from = w.from;
  state->counted_to = w.to;
  state->alert.Observe(w.hosts, event.time, renotify_);
  Emit(key_, *state, event.time, out);
}

void FleetAppPoolDetector::End(std::string_view key, PoolState& state, AlertOutput& out) {
  if (state.alert.Resolve()) Emit(key, state, state.counted_to + state.thresholds->window, out);
  state.incident_start = state.counted_from = state.counted_to = absl::InfinitePast();
  state.hosts.clear();
}

void FleetAppPoolDetector::Forget(const absl::flat_hash_set<std::string>& pools) {
  pools_.EraseIf([&](const std::string& key, PoolState&) { return pools.contains(key); });
}

void FleetAppPoolDetector::OnWatermark(const Watermarks& watermarks, AlertOutput& out) {
  // No failure of the pool has arrived for a window (plus the lateness): from any host.
  pools_.EraseIf([&](const std::string& key, PoolState& state) {
    if (watermarks.Arrival() < state.last_seen + state.thresholds->window) return false;
    End(key, state, out);
    return true;
  });
}

void FleetAppPoolDetector::Emit(std::string_view key, const PoolState& state, absl::Time now,
                                AlertOutput& out) const {
  Alert alert = NewAlert("fleet_app_pool_failures", "critical", state.alert, key,
                         state.incident_start, state.thresholds->window, labels_);
  alert.set_app_pool(state.pool);
  // One evidence entry per host: its latest failure; the host in `detail`.
  const std::vector<std::string> hosts = Hosts(state);
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
  for (size_t i = 0; i < hosts.size(); ++i) {
    const HostFailure& f = state.hosts.find(ToAbsl(hosts[i]))->second;
    // The count says how many; the evidence names the first hosts only. A pool such as
    // DefaultAppPool failing on 10,000 hosts would otherwise make an alert of megabytes that
    // every sink has to carry (and Slack or PagerDuty refuse).
    if (i < kMaxEvidenceHosts) {
      AddEvidence(&alert, "failure", f.provider, f.event_id, f.time, f.pid, 0, std::nullopt,
                  std::nullopt, hosts[i]);
    }
    first = std::min(first, f.time);
    last = std::max(last, f.time);
  }
  if (hosts.empty()) first = last = now;
  alert.set_count(static_cast<uint32_t>(hosts.size()));
  *alert.mutable_first_event_time() = ToProtoTime(first);
  *alert.mutable_last_event_time() = ToProtoTime(last);
  if (state.alert.firing()) {
    alert.set_summary(absl::StrFormat(
        "Application pool '%s' is failing on %d hosts within %s (%s): a fleet-wide problem such "
        "as a deployment or patch, not one server.",
        state.pool, hosts.size(), absl::FormatDuration(state.thresholds->window),
        absl::StrJoin(hosts.begin(), hosts.begin() + std::min<ptrdiff_t>(std::ssize(hosts), 10),
                      ", ")));
  } else {
    alert.set_summary(
        absl::StrFormat("Application pool '%s': no worker failure on any host for %s.", state.pool,
                        absl::FormatDuration(state.thresholds->window)));
  }
  out.Emit(std::move(alert));
}

}  // namespace faultline

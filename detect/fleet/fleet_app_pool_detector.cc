#include "detect/fleet/fleet_app_pool_detector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "detect/alert_builder.h"

namespace faultline {

absl::StatusOr<std::unique_ptr<Detector>> FleetAppPoolDetector::Create(const DetectConfig& config) {
  const FleetConfig& c = config.fleet_app_pool_failures;
  std::vector<std::string> errors;
  if (c.min_hosts < 2) {
    errors.push_back(absl::StrCat(
        "detect.fleet_app_pool_failures.min_hosts: must be at least 2, got ", c.min_hosts));
  }
  if (c.window <= absl::ZeroDuration()) {
    errors.push_back(absl::StrCat("detect.fleet_app_pool_failures.window: must be positive, got ",
                                  absl::FormatDuration(c.window)));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  if (!c.enabled) return nullptr;
  return std::unique_ptr<Detector>(new FleetAppPoolDetector(config));
}

FleetAppPoolDetector::FleetAppPoolDetector(const DetectConfig& config)
    : config_(config.fleet_app_pool_failures),
      renotify_(config.renotify_interval),
      labels_(config.labels),
      pools_(std::max(config.max_keys, 1)) {}

std::vector<EventKey> FleetAppPoolDetector::Subscriptions() const {
  std::vector<EventKey> keys;
  for (uint32_t id = kWasWorkerTerminated; id <= kWasWorkerShutdownTimeLimit; ++id) {
    keys.push_back({Provider::kWas, id});
  }
  for (uint32_t id = kW3svcWorkerTerminated; id <= kW3svcWorkerShutdownTimeLimit; ++id) {
    keys.push_back({Provider::kW3svc, id});
  }
  return keys;
}

std::vector<std::string> FleetAppPoolDetector::Hosts(const PoolState& state) const {
  std::vector<std::string> hosts;
  for (const auto& f : state.failures.entries()) {
    if (std::find(hosts.begin(), hosts.end(), f.value.host) == hosts.end()) {
      hosts.push_back(f.value.host);
    }
  }
  return hosts;
}

void FleetAppPoolDetector::OnEvent(const Event& event, AlertOutput& out) {
  if (event.app_pool.empty()) return;
  key_.assign(event.app_pool);
  absl::AsciiStrToLower(&key_);
  auto [state, inserted] = pools_.FindOrCreate(key_, config_.window);
  if (inserted) state->pool = event.app_pool;
  EndIfQuiet(key_, *state, event.time, out);
  state->last_seen = std::max(state->last_seen, event.time);
  if (state->failures.Add(event.time, {event.host, event.provider, event.event_id, event.pid}) ==
      nullptr) {
    return;
  }
  const uint32_t hosts = static_cast<uint32_t>(Hosts(*state).size());
  if (hosts < static_cast<uint32_t>(config_.min_hosts)) return;
  if (state->incident_start == absl::InfinitePast()) {
    state->incident_start = state->failures.entries().front().time;
  }
  if (state->alert.Observe(hosts, event.time, renotify_) != AlertState::Action::kNone) {
    Emit(/*firing=*/true, key_, *state, event.time, out);
  }
}

bool FleetAppPoolDetector::EndIfQuiet(std::string_view key, PoolState& state, absl::Time now,
                                      AlertOutput& out) {
  const absl::Time last =
      state.failures.empty() ? state.last_seen : state.failures.entries().back().time;
  if (now < last + config_.window) return false;
  if (state.alert.Resolve()) Emit(/*firing=*/false, key, state, last + config_.window, out);
  state.incident_start = absl::InfinitePast();
  state.failures.AdvanceTo(now);
  return true;
}

void FleetAppPoolDetector::OnWatermark(absl::Time watermark, AlertOutput& out) {
  pools_.EraseIf([&](const std::string& key, PoolState& state) {
    return EndIfQuiet(key, state, watermark, out);
  });
}

void FleetAppPoolDetector::Emit(bool firing, std::string_view key, const PoolState& state,
                                absl::Time now, AlertOutput& out) const {
  Alert alert = NewAlert("fleet_app_pool_failures", "critical", firing, key, state.incident_start,
                         config_.window, labels_);
  alert.set_app_pool(state.pool);
  // One evidence entry per host: its latest failure; the host in `detail`.
  const std::vector<std::string> hosts = Hosts(state);
  for (const std::string& host : hosts) {
    for (auto it = state.failures.entries().rbegin(); it != state.failures.entries().rend(); ++it) {
      if (it->value.host != host) continue;
      AddEvidence(&alert, "failure", it->value.provider, it->value.event_id, it->time,
                  it->value.pid, 0, std::nullopt, std::nullopt, host);
      break;
    }
  }
  const auto& entries = state.failures.entries();
  alert.set_count(static_cast<uint32_t>(hosts.size()));
  (*alert.mutable_labels())["hosts"] = absl::StrJoin(hosts, ",");
  *alert.mutable_first_event_time() =
      ToProtoTime(entries.empty() ? state.incident_start : entries.front().time);
  *alert.mutable_last_event_time() = ToProtoTime(entries.empty() ? now : entries.back().time);
  if (firing) {
    alert.set_summary(absl::StrFormat(
        "Application pool '%s' is failing on %d hosts within %s (%s): a fleet-wide problem such "
        "as a deployment or patch, not one server.",
        state.pool, hosts.size(), absl::FormatDuration(config_.window),
        absl::StrJoin(hosts.begin(), hosts.begin() + std::min<size_t>(hosts.size(), 10), ", ")));
  } else {
    alert.set_summary(
        absl::StrFormat("Application pool '%s': no worker failure on any host for %s.", state.pool,
                        absl::FormatDuration(config_.window)));
  }
  out.Emit(std::move(alert));
}

}  // namespace faultline

#include "detect/service/service_crash_loop_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "detect/alert_builder.h"

namespace faultline {

const settings::Schema<ServiceCrashLoopThresholds>& ServiceCrashLoopThresholds::Schema() {
  using T = ServiceCrashLoopThresholds;
  static const auto* schema =
      &(*new settings::Schema<T>("When a service's terminations fire."))
           .Integer("threshold", &T::threshold, 1, 100000,
                    "Terminations within the window (or \"done this N time(s)\") that fire.")
           .Duration("window", &T::window, settings::Bound::kPositive,
                     "The sliding window, in the host's event time.");
  return *schema;
}

const settings::Schema<ServiceCrashLoopConfig>& ServiceCrashLoopConfig::Schema() {
  static const auto* schema =
      &(*new settings::Schema<ServiceCrashLoopConfig>(
            "A Windows service terminating again and again (Service Control Manager "
            "7031/7034), per host and service."))
           .Bool("enabled", &ServiceCrashLoopConfig::enabled, "Turns the detector off.")
           .Inline(&ServiceCrashLoopConfig::thresholds, ServiceCrashLoopThresholds::Schema())
           .IntegerList("events", &ServiceCrashLoopConfig::events, 1, 65535,
                        "7031: terminated, with a recovery action; 7034: without.",
                        /*min_items=*/1)
           .Overrides("overrides", &ServiceCrashLoopConfig::overrides,
                      {{{"host", "Host name pattern (* and ?)."},
                        {"service",
                         "Service pattern, matched against the service's key name and display "
                         "name."}}},
                      ServiceCrashLoopThresholds::Schema(),
                      "Per host and service pattern, tried in order.")
           .Check([](const ServiceCrashLoopConfig& c, settings::Checker& check) {
             for (size_t i = 0; i < c.events.size(); ++i) {
               const auto before = c.events.begin() + static_cast<ptrdiff_t>(i);
               if (std::find(c.events.begin(), before, c.events[i]) != before) {
                 check.Error("events", absl::StrCat(c.events[i], " is listed twice"));
               }
               if (c.events[i] != kScmServiceTerminatedUnexpectedly &&
                   c.events[i] != kScmServiceTerminatedNoRecovery) {
                 check.Error("events", absl::StrCat(c.events[i],
                                                    " is not an unexpected termination (7031, "
                                                    "7034)"));
               }
             }
           });
  return *schema;
}

absl::StatusOr<std::unique_ptr<Detector>> ServiceCrashLoopDetector::Create(
    const ServiceCrashLoopConfig& config, const DetectorContext& context) {
  if (!config.enabled) return nullptr;
  return std::unique_ptr<Detector>(new ServiceCrashLoopDetector(config, context));
}

ServiceCrashLoopDetector::ServiceCrashLoopDetector(const ServiceCrashLoopConfig& config,
                                                   const DetectorContext& context)
    : config_(config),
      renotify_(context.renotify_interval),
      lateness_(context.allowed_lateness),
      labels_(context.labels),
      thresholds_(config.thresholds, config.overrides, ServiceCrashLoopThresholds::Schema()),
      pools_(context.max_keys) {}

std::vector<EventKey> ServiceCrashLoopDetector::Subscriptions() const {
  std::vector<EventKey> keys;
  for (uint32_t id : config_.events) keys.push_back({Provider::kServiceControlManager, id});
  return keys;
}

bool ServiceCrashLoopDetector::OnLateEvent(const Event& event, AlertOutput& out) {
  if (event.service.empty()) return false;
  const ServiceState* state = pools_.Find(Key(event));
  const bool decisive = event.occurrences >=
                        static_cast<uint32_t>(ThresholdsFor(event.host, event.service)->threshold);
  if (!decisive && (state == nullptr || !state->alert.firing())) return false;
  return Count(event, out);
}

bool ServiceCrashLoopDetector::Count(const Event& event, AlertOutput& out) {
  if (event.service.empty()) return false;
  ServiceState* state =
      pools_.FindOrCreate(Key(event), ThresholdsFor(event.host, event.service)).first;
  // A previous incident is over: resolve it first (beyond the allowed lateness, so a late
  // termination of the same run still lands in it).
  EndIfQuiet(key_.last(), *state, event.time - lateness_, out);
  state->last_seen = std::max(state->last_seen, event.time);
  state->host_clock = HostRef{event.host_clock};
  if (state->terminations.Add(event.time, {event.event_id, event.occurrences, event.record_id}) ==
      nullptr) {
    return false;
  }
  auto count = static_cast<uint32_t>(state->terminations.size());
  for (const auto& t : state->terminations.entries()) count = std::max(count, t.value.occurrences);
  if (count < static_cast<uint32_t>(state->thresholds->threshold)) return true;
  if (state->incident_start == absl::InfinitePast()) {
    state->incident_start = state->terminations.entries().front().time;
  }
  if (state->alert.Observe(count, event.time, renotify_) != AlertState::Action::kNone) {
    Emit(key_.last(), *state, event.time, out);
  }
  return true;
}

bool ServiceCrashLoopDetector::EndIfQuiet(std::string_view key, ServiceState& state, absl::Time now,
                                          AlertOutput& out) {
  const absl::Time last =
      state.terminations.empty() ? state.last_seen : state.terminations.entries().back().time;
  const absl::Duration window = state.thresholds->window;
  if (now < last + window) return false;
  if (state.alert.Resolve()) Emit(key, state, last + window, out);
  state.incident_start = absl::InfinitePast();
  state.terminations.AdvanceTo(now);
  return true;
}

void ServiceCrashLoopDetector::Forget(const absl::flat_hash_set<std::string>& hosts) {
  pools_.EraseIf([&](const std::string& key, ServiceState&) {
    return hosts.contains(ToAbsl(CompositeKey::First(key)));
  });
}

void ServiceCrashLoopDetector::OnWatermark(const Watermarks& watermarks, AlertOutput& out) {
  // Quiet for a whole window of its host's time: resolved, and nothing left to remember.
  pools_.EraseIf([&](const std::string& key, ServiceState& state) {
    return EndIfQuiet(key, state, watermarks.Host(state.host_clock, CompositeKey::First(key)), out);
  });
}

void ServiceCrashLoopDetector::Emit(std::string_view key, const ServiceState& state, absl::Time now,
                                    AlertOutput& out) const {
  const std::string_view host = CompositeKey::First(key);
  const std::string_view service = CompositeKey::Second(key);
  Alert alert = NewAlert("service_crash_loop", "critical", state.alert, key, state.incident_start,
                         state.thresholds->window, labels_);
  alert.set_host(std::string(host));
  alert.set_service(std::string(service));
  uint32_t windows_count = 0;
  for (const auto& t : state.terminations.entries()) {
    Evidence* e = AddEvidence(&alert, "termination", Provider::kServiceControlManager,
                              t.value.event_id, t.time, 0, t.value.record_id);
    if (t.value.occurrences > 0) {
      e->set_detail(absl::StrCat("done this ", t.value.occurrences, " time(s)"));
    }
    windows_count = std::max(windows_count, t.value.occurrences);
  }
  const auto& entries = state.terminations.entries();
  const absl::Time first = entries.empty() ? state.incident_start : entries.front().time;
  alert.set_count(static_cast<uint32_t>(entries.size()));
  *alert.mutable_first_event_time() = ToProtoTime(first);
  *alert.mutable_last_event_time() = ToProtoTime(entries.empty() ? now : entries.back().time);
  if (state.alert.firing()) {
    alert.set_summary(absl::StrFormat(
        "Service '%s' on %s terminated unexpectedly %d time(s) in %s%s: a crash loop.", service,
        host, entries.size(), absl::FormatDuration(absl::Trunc(now - first, absl::Seconds(1))),
        windows_count > 0 ? absl::StrCat(" (Windows counts ", windows_count, ")") : ""));
  } else {
    alert.set_summary(absl::StrFormat("Service '%s' on %s: no unexpected termination for %s.",
                                      service, host,
                                      absl::FormatDuration(state.thresholds->window)));
  }
  out.Emit(std::move(alert));
}

}  // namespace faultline

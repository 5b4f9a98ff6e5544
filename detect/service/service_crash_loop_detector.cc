#include "detect/service/service_crash_loop_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "detect/alert_builder.h"

namespace faultline {

absl::StatusOr<std::unique_ptr<Detector>> ServiceCrashLoopDetector::Create(
    const DetectConfig& config) {
  const ServiceCrashLoopConfig& c = config.service_crash_loop;
  std::vector<std::string> errors;
  std::vector<Thresholds> thresholds;
  auto check = [&](const std::string& path, const Thresholds& t) {
    if (t.threshold < 1) {
      errors.push_back(absl::StrCat(path, ".threshold: must be at least 1, got ", t.threshold));
    }
    if (t.window <= absl::ZeroDuration()) {
      errors.push_back(
          absl::StrCat(path, ".window: must be positive, got ", absl::FormatDuration(t.window)));
    }
  };
  for (size_t i = 0; i < c.overrides.size(); ++i) {
    const ServiceCrashLoopOverride& o = c.overrides[i];
    thresholds.push_back({o.threshold.value_or(c.threshold), o.window.value_or(c.window)});
    check(absl::StrCat("detect.service_crash_loop.overrides[", i, "]"), thresholds.back());
  }
  thresholds.push_back({c.threshold, c.window});
  check("detect.service_crash_loop", thresholds.back());
  for (size_t i = 0; i < c.events.size(); ++i) {
    if (std::find(c.events.begin(), c.events.begin() + i, c.events[i]) != c.events.begin() + i) {
      errors.push_back(absl::StrCat("detect.service_crash_loop.events[", i, "]: ", c.events[i],
                                    " is listed twice"));
    }
    if (c.events[i] != kScmServiceTerminatedUnexpectedly &&
        c.events[i] != kScmServiceTerminatedNoRecovery) {
      errors.push_back(absl::StrCat("detect.service_crash_loop.events[", i, "]: ", c.events[i],
                                    " is not an unexpected termination (7031, 7034)"));
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  if (!c.enabled) return nullptr;
  return std::unique_ptr<Detector>(new ServiceCrashLoopDetector(config, std::move(thresholds)));
}

ServiceCrashLoopDetector::ServiceCrashLoopDetector(const DetectConfig& config,
                                                   std::vector<Thresholds> thresholds)
    : config_(config.service_crash_loop),
      renotify_(config.renotify_interval),
      lateness_(config.allowed_lateness),
      labels_(config.labels),
      thresholds_(std::move(thresholds)),
      pools_(std::max(config.max_keys, 1)) {}

const ServiceCrashLoopDetector::Thresholds* ServiceCrashLoopDetector::ThresholdsFor(
    std::string_view host, std::string_view service) const {
  for (size_t i = 0; i < config_.overrides.size(); ++i) {
    if (GlobMatch(config_.overrides[i].host, host) &&
        GlobMatch(config_.overrides[i].service, service)) {
      return &thresholds_[i];
    }
  }
  return &thresholds_.back();
}

std::vector<EventKey> ServiceCrashLoopDetector::Subscriptions() const {
  std::vector<EventKey> keys;
  for (uint32_t id : config_.events) keys.push_back({Provider::kServiceControlManager, id});
  return keys;
}

const std::string& ServiceCrashLoopDetector::Key(const Event& event) {
  key_.assign(event.host);
  key_.push_back('\x1f');
  key_.append(event.service);
  return key_;
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
  EndIfQuiet(key_, *state, event.time - lateness_, out);
  state->last_seen = std::max(state->last_seen, event.time);
  state->host_clock = HostRef{event.host_clock};
  if (state->terminations.Add(event.time, {event.event_id, event.occurrences, event.record_id}) ==
      nullptr) {
    return false;
  }
  uint32_t count = static_cast<uint32_t>(state->terminations.size());
  for (const auto& t : state->terminations.entries()) count = std::max(count, t.value.occurrences);
  if (count < static_cast<uint32_t>(state->thresholds->threshold)) return true;
  if (state->incident_start == absl::InfinitePast()) {
    state->incident_start = state->terminations.entries().front().time;
  }
  if (state->alert.Observe(count, event.time, renotify_) != AlertState::Action::kNone) {
    Emit(key_, *state, event.time, out);
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

void ServiceCrashLoopDetector::OnWatermark(const Watermarks& watermarks, AlertOutput& out) {
  // Quiet for a whole window of its host's time: resolved, and nothing left to remember.
  pools_.EraseIf([&](const std::string& key, ServiceState& state) {
    return EndIfQuiet(
        key, state,
        watermarks.Host(state.host_clock, std::string_view(key).substr(0, key.find('\x1f'))), out);
  });
}

void ServiceCrashLoopDetector::Emit(std::string_view key, const ServiceState& state, absl::Time now,
                                    AlertOutput& out) const {
  const std::string_view host = key.substr(0, key.find('\x1f'));
  const std::string_view service = key.substr(key.find('\x1f') + 1);
  Alert alert = NewAlert("service_crash_loop", "critical", state.alert, key, state.incident_start,
                         state.thresholds->window, labels_);
  alert.set_host(std::string(host));
  alert.set_service(std::string(service));
  uint32_t windows_count = 0;
  for (const auto& t : state.terminations.entries()) {
    Evidence* e = AddEvidence(&alert, "termination", Provider::kServiceControlManager,
                              t.value.event_id, t.time, 0, t.value.record_id);
    if (t.value.occurrences > 0)
      e->set_detail(absl::StrCat("done this ", t.value.occurrences, " time(s)"));
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

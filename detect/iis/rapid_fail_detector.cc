#include "detect/iis/rapid_fail_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "detect/alert_builder.h"

namespace faultline {
namespace {

constexpr std::string_view kRuleNames[] = {"iis_worker_failure_burst", "iis_rapid_fail_imminent",
                                           "iis_app_pool_disabled"};
constexpr size_t kCompanionsPerHost = 16;

std::string_view HostOf(std::string_view key) { return CompositeKey::First(key); }
std::string_view PoolOf(std::string_view key) { return CompositeKey::Second(key); }

void AddCode(std::optional<uint32_t> code, std::vector<uint32_t>* codes) {
  if (code && std::find(codes->begin(), codes->end(), *code) == codes->end()) {
    codes->push_back(*code);
  }
}

std::string Span(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1)));
}

}  // namespace

const settings::Schema<RapidFailThresholds>& RapidFailThresholds::Schema() {
  using T = RapidFailThresholds;
  static const auto* schema =
      &(*new settings::Schema<T>("The thresholds IIS rapid-fail protection counts with."))
           .Integer("max_crashes", &T::max_crashes, 2, 100000,
                    "IIS rapidFailProtectionMaxCrashes: failures within the interval that "
                    "disable the pool.")
           .Duration("interval", &T::interval, settings::Bound::kPositive,
                     "IIS rapidFailProtectionInterval.")
           .Integer("burst_threshold", &T::burst_threshold, 1, 100000,
                    "iis_worker_failure_burst fires at this many failures in the interval.");
  return *schema;
}

const settings::Schema<RapidFailConfig>& RapidFailConfig::Schema() {
  using settings::Bound;
  static const auto* rules =
      &(*new settings::Schema<Rules>("Each of the three rules can be turned off."))
           .Bool("iis_worker_failure_burst", &Rules::burst,
                 "burst_threshold failures inside the interval (warning).")
           .Bool("iis_rapid_fail_imminent", &Rules::imminent,
                 "max_crashes - 1 failures: the next one disables the pool (critical).")
           .Bool("iis_app_pool_disabled", &Rules::disabled,
                 "WAS 5002/5057/5059, W3SVC 1002: the pool is down, with its failures as "
                 "evidence.");
  static const auto* schema =
      &(*new settings::Schema<RapidFailConfig>(
            "IIS rapid-fail protection per (host, application pool): the warning before IIS "
            "disables a pool, and the disablement with its evidence."))
           .Inline(&RapidFailConfig::thresholds, RapidFailThresholds::Schema())
           .Duration("correlation_window", &RapidFailConfig::correlation_window,
                     Bound::kNonNegative,
                     "How far apart an Application Error 1000 for w3wp.exe and the WAS event of "
                     "the same worker pid may be and still count as one failure.")
           .Duration("disabled_resolve_after", &RapidFailConfig::disabled_resolve_after,
                     Bound::kPositive,
                     "A disabled pool's alert resolves when a worker of the pool is seen again, "
                     "or after this much of its host's time.")
           .IntegerList("failure_events", &RapidFailConfig::failure_events, 1, 65535,
                        "Which worker-process failures count (WAS 5009-5013, W3SVC 1009-1013); "
                        "e.g. leave out 5010 (ping failures) for pools slow by design.",
                        /*min_items=*/1)
           .Section("rules", &RapidFailConfig::rules, *rules)
           .Overrides("overrides", &RapidFailConfig::overrides,
                      {{{"host", "Host name pattern (* and ?)."},
                        {"app_pool", "Application pool pattern."}}},
                      RapidFailThresholds::Schema(), "Per host and pool pattern, tried in order.")
           .Check([](const RapidFailConfig& c, settings::Checker& check) {
             for (size_t i = 0; i < c.failure_events.size(); ++i) {
               const uint32_t id = c.failure_events[i];
               const auto before = c.failure_events.begin() + static_cast<ptrdiff_t>(i);
               if (std::find(c.failure_events.begin(), before, id) != before) {
                 check.Error("failure_events", absl::StrCat(id, " is listed twice"));
               }
               if (!IsWorkerFailure(Provider::kWas, id) && !IsWorkerFailure(Provider::kW3svc, id)) {
                 check.Error("failure_events",
                             absl::StrCat(id,
                                          " is not a worker failure (WAS 5009-5013, W3SVC "
                                          "1009-1013)"));
               }
             }
           });
  return *schema;
}

absl::StatusOr<std::unique_ptr<Detector>> RapidFailDetector::Create(
    const RapidFailConfig& config, const DetectorContext& context) {
  if (!config.rules.burst && !config.rules.imminent && !config.rules.disabled) return nullptr;
  return std::unique_ptr<Detector>(new RapidFailDetector(config, context));
}

RapidFailDetector::RapidFailDetector(const RapidFailConfig& config, const DetectorContext& context)
    : config_(config),
      renotify_(context.renotify_interval),
      lateness_(context.allowed_lateness),
      labels_(context.labels),
      thresholds_(config.thresholds, config.overrides, RapidFailThresholds::Schema()),
      pools_(context.max_keys),
      pending_crashes_(context.max_keys),
      pid_pools_(context.max_keys),
      hosts_(context.max_keys) {}

std::vector<EventKey> RapidFailDetector::Subscriptions() const {
  std::vector<EventKey> keys;
  for (uint32_t id : config_.failure_events) {
    keys.push_back({IsWorkerFailure(Provider::kWas, id) ? Provider::kWas : Provider::kW3svc, id});
  }
  for (const EventId& e : kAppPoolDisabledEvents) keys.push_back({e.provider, e.id});
  for (const EventId& e : kWorkerAliveEvents) keys.push_back({e.provider, e.id});
  for (const EventId& e : kCompanionEvents) keys.push_back({e.provider, e.id});
  keys.push_back({Provider::kApplicationError, kApplicationErrorFaultingApp});
  return keys;
}

uint64_t RapidFailDetector::PidKey(std::string_view host, uint32_t pid) {
  return absl::Hash<std::pair<absl::string_view, uint32_t>>{}({ToAbsl(host), pid});
}

void RapidFailDetector::OnEvent(const Event& event, AlertOutput& out) {
  // The engine routes only the configured failure events here, so a worker failure is one.
  if (IsWorkerFailure(event.provider, event.event_id)) {
    OnWorkerFailure(event, out);
  } else if (IsAppPoolDisabled(event.provider, event.event_id)) {
    OnPoolDisabled(event, /*may_wait=*/true, out);
  } else if (IsWorkerAlive(event.provider, event.event_id)) {
    OnWorkerAlive(event, out);
  } else if (IsCompanion(event.provider, event.event_id)) {
    OnCompanion(event);
  } else if (event.provider == Provider::kApplicationError) {
    OnApplicationCrash(event);
  }
}

bool RapidFailDetector::OnLateEvent(const Event& event, AlertOutput& out) {
  if (IsAppPoolDisabled(event.provider, event.event_id)) {
    return OnPoolDisabled(event, /*may_wait=*/false, out);  // the decisive event: never dropped
  }
  if (IsWorkerFailure(event.provider, event.event_id)) {
    // Only into an incident still open: a late failure must not start one after the fact.
    const PoolState* pool = pools_.Find(PoolKey(event.host, event.app_pool));
    if (pool == nullptr || pool->incident_start == absl::InfinitePast()) return false;
    return OnWorkerFailure(event, out);
  }
  if (IsWorkerAlive(event.provider, event.event_id)) return OnWorkerAlive(event, out);
  if (event.provider == Provider::kApplicationError) return OnApplicationCrash(event);
  return false;  // a companion: context for alerts already sent
}

bool RapidFailDetector::OnApplicationCrash(const Event& event) {
  if (event.pid == 0 || !EqualsIgnoreCase(event.faulting_app, "w3wp.exe")) return false;
  if (PidPool* known = pid_pools_.Find(PidKey(event.host, event.pid))) {
    // The WAS event came first: enrich the failure already counted.
    if (PoolState* pool = pools_.Find(known->pool_key)) {
      for (auto& entry : pool->failures.entries()) {
        if (entry.value.pid != event.pid) continue;
        if (!entry.value.exception_code) entry.value.exception_code = event.exception_code;
        if (entry.value.faulting_module.empty()) {
          entry.value.faulting_module = event.faulting_module;
        }
        return true;
      }
    }
  }
  auto [pending, inserted] = pending_crashes_.FindOrCreate(PidKey(event.host, event.pid));
  *pending = PendingCrash{event.arrival, event.time, event.exception_code, event.faulting_module};
  return true;
}

bool RapidFailDetector::OnWorkerFailure(const Event& event, AlertOutput& out) {
  if (event.app_pool.empty()) return false;  // nothing to key on
  auto [pool, inserted] = pools_.FindOrCreate(PoolKey(event.host, event.app_pool),
                                              ThresholdsFor(event.host, event.app_pool));
  const std::string& pool_key = pool_key_.last();
  pool->last_seen = std::max(pool->last_seen, event.time);
  pool->host_clock = HostRef{event.host_clock};
  // From an event, an incident ends only once it is quiet beyond the allowed lateness: a late
  // failure of the same run must still land in it (the watermark does the rest).
  EndIncidentIfQuiet(pool_key, *pool, event.time - lateness_, out);
  auto& entries = pool->failures.entries();
  if (event.pid != 0) {
    for (auto& entry : entries) {
      if (entry.value.pid == event.pid) {  // the same worker died once: count it once
        if (!entry.value.exit_code) entry.value.exit_code = event.exit_code;
        return true;
      }
    }
  }
  if (pool->held_disable && event.time > pool->held_disable->time) {
    ReleaseHeldDisable(pool_key, *pool, /*force=*/true, out);  // this failure came after it
  }
  if (pool->disabled.firing() && event.time > pool->disabled_at) {
    // A new worker failed, so someone started the pool again: it is no longer disabled.
    ResolveDisabled(pool_key, *pool, event.time, &event, out);
  }
  Failure failure{event.provider,  event.event_id, event.pid, event.record_id,
                  event.exit_code, std::nullopt,   {}};
  if (event.pid != 0) {
    if (PendingCrash* crash = pending_crashes_.Find(PidKey(event.host, event.pid));
        crash != nullptr &&
        absl::AbsDuration(crash->time - event.time) <= config_.correlation_window) {
      failure.exception_code = crash->exception_code;
      failure.faulting_module = std::move(crash->faulting_module);
      crash->time = absl::InfinitePast();       // consumed: matches nothing more
      crash->last_seen = absl::InfinitePast();  // and expires with the next watermark
    }
  }
  if (pool->failures.Add(event.time, std::move(failure)) == nullptr) return false;  // too old
  if (pool->incident_start == absl::InfinitePast()) pool->incident_start = event.time;
  pool->last_failure = std::max(pool->last_failure, event.time);
  if (event.pid != 0) {
    *pid_pools_.FindOrCreate(PidKey(event.host, event.pid)).first =
        PidPool{event.arrival, pool_key};
  }
  if (pool->disabled.firing()) return true;  // the pool is down: the disabled alert speaks for it
  const auto count = static_cast<uint32_t>(pool->failures.size());
  const Thresholds& t = *pool->thresholds;
  if (config_.rules.burst && count >= static_cast<uint32_t>(t.burst_threshold) &&
      !pool->imminent.firing()) {
    Notify(Rule::kBurst, pool->burst, count, pool_key, *pool, event, out);
  }
  if (config_.rules.imminent && count >= static_cast<uint32_t>(t.max_crashes - 1)) {
    Notify(Rule::kImminent, pool->imminent, count, pool_key, *pool, event, out);
  }
  if (pool->held_disable) ReleaseHeldDisable(pool_key, *pool, /*force=*/false, out);
  return true;
}

void RapidFailDetector::Notify(Rule rule, AlertState& state, uint32_t count, std::string_view key,
                               const PoolState& pool, const Event& event, AlertOutput& out) const {
  if (state.Observe(count, event.time, renotify_) != AlertState::Action::kNone) {
    Emit(rule, key, pool, event.time, {&event}, out);
  }
}

void RapidFailDetector::ResolveDisabled(std::string_view key, PoolState& pool, absl::Time now,
                                        const Event* event, AlertOutput& out) const {
  if (!pool.disabled.Resolve()) return;
  if (event != nullptr) {
    // A live worker ends the incident: the failures that led to the outage are history, and
    // whatever happens next is a new incident with new fingerprints.
    if (pool.burst.Resolve()) Emit(Rule::kBurst, key, pool, now, {}, out);
    if (pool.imminent.Resolve()) {
      Emit(Rule::kImminent, key, pool, now, {}, out);
    }
  }
  Emit(Rule::kDisabled, key, pool, now, {event, event != nullptr}, out);
  if (!pool.burst.firing() && !pool.imminent.firing()) {
    pool.incident_start = absl::InfinitePast();
    pool.last_failure = absl::InfinitePast();
    pool.failures.entries().clear();
  }
}

bool RapidFailDetector::OnPoolDisabled(const Event& event, bool may_wait, AlertOutput& out) {
  if (event.app_pool.empty() || !config_.rules.disabled) return false;
  auto [pool, inserted] = pools_.FindOrCreate(PoolKey(event.host, event.app_pool),
                                              ThresholdsFor(event.host, event.app_pool));
  const std::string& pool_key = pool_key_.last();
  pool->last_seen = std::max(pool->last_seen, event.time);
  pool->host_clock = HostRef{event.host_clock};
  if (pool->disabled.firing()) return true;  // the same outage reported again
  EndIncidentIfQuiet(pool_key, *pool, event.time - lateness_, out);
  if (may_wait && IsRapidFailDisable(event.provider, event.event_id) &&
      FailuresUpTo(*pool, event.time) < ImminentAt(*pool)) {
    // IIS counted max_crashes failures before this, and not even the warning's worth are here:
    // they are still on their way (out of order within the allowance). Wait for them, at most
    // until the host's watermark passes it, so the warning comes first and the evidence in.
    if (!pool->held_disable || event.time < pool->held_disable->time) {
      pool->held_disable = std::make_unique<Event>(event);
    }
    return true;
  }
  pool->held_disable.reset();
  FireDisabled(pool_key, *pool, event, out);
  return true;
}

void RapidFailDetector::FireDisabled(std::string_view key, PoolState& pool, const Event& event,
                                     AlertOutput& out) {
  if (pool.incident_start == absl::InfinitePast()) {
    pool.incident_start = event.time;  // disabled with no failure seen: an incident of its own
  }
  pool.disabled_at = event.time;
  Notify(Rule::kDisabled, pool.disabled, 0, key, pool, event, out);
}

void RapidFailDetector::ReleaseHeldDisable(std::string_view key, PoolState& pool, bool force,
                                           AlertOutput& out) {
  if (!force && FailuresUpTo(pool, pool.held_disable->time) < ImminentAt(pool)) return;
  const std::unique_ptr<Event> held = std::move(pool.held_disable);
  FireDisabled(key, pool, *held, out);
}

uint32_t RapidFailDetector::FailuresUpTo(const PoolState& pool, absl::Time t) {
  uint32_t n = 0;
  for (const auto& entry : pool.failures.entries()) n += entry.time <= t;
  return n;
}

bool RapidFailDetector::OnWorkerAlive(const Event& event, AlertOutput& out) {
  if (event.app_pool.empty()) return false;
  PoolState* pool = pools_.Find(PoolKey(event.host, event.app_pool));
  if (pool == nullptr) return false;
  if (pool->held_disable && event.time > pool->held_disable->time) {
    ReleaseHeldDisable(pool_key_.last(), *pool, /*force=*/true, out);
  }
  if (!pool->disabled.firing() || event.time <= pool->disabled_at) return false;
  pool->last_seen = std::max(pool->last_seen, event.time);
  pool->host_clock = HostRef{event.host_clock};
  EndIncidentIfQuiet(pool_key_.last(), *pool, event.time - lateness_, out);
  ResolveDisabled(pool_key_.last(), *pool, event.time, &event, out);
  return true;
}

void RapidFailDetector::OnCompanion(const Event& event) {
  HostContext* host = hosts_.FindOrCreate(event.host).first;
  host->last_seen = std::max(host->last_seen, event.time);
  host->host_clock = HostRef{event.host_clock};
  if (host->recent.size() < kCompanionsPerHost) {
    if (host->recent.empty()) host->recent.reserve(kCompanionsPerHost);
    host->recent.push_back({event.time, event.provider, event.event_id, event.detail});
    return;
  }
  // Overwrites the oldest in place, reusing its string: no allocation per companion event.
  Companion& c = host->recent[host->oldest];
  c.time = event.time;
  c.provider = event.provider;
  c.event_id = event.event_id;
  c.detail.assign(event.detail);
  host->oldest = (host->oldest + 1) % kCompanionsPerHost;
}

void RapidFailDetector::EndIncidentIfQuiet(std::string_view key, PoolState& pool, absl::Time now,
                                           AlertOutput& out) {
  if (pool.incident_start == absl::InfinitePast()) return;
  if (now < pool.last_failure + pool.thresholds->interval) return;
  if (pool.last_failure == absl::InfinitePast() && pool.disabled.firing()) return;
  const absl::Time ended = pool.last_failure == absl::InfinitePast()
                               ? now
                               : pool.last_failure + pool.thresholds->interval;
  if (pool.burst.Resolve()) Emit(Rule::kBurst, key, pool, ended, {}, out);
  if (pool.imminent.Resolve()) {
    Emit(Rule::kImminent, key, pool, ended, {}, out);
  }
  if (!pool.disabled.firing()) pool.incident_start = absl::InfinitePast();
  pool.last_failure = absl::InfinitePast();
  pool.failures.AdvanceTo(now);
}

void RapidFailDetector::Forget(const absl::flat_hash_set<std::string>& hosts) {
  auto gone = [&hosts](std::string_view host) { return hosts.contains(ToAbsl(host)); };
  pools_.EraseIf([&](const std::string& key, PoolState&) { return gone(HostOf(key)); });
  pid_pools_.EraseIf([&](uint64_t, PidPool& p) { return gone(HostOf(p.pool_key)); });
  hosts_.EraseIf([&](const std::string& host, HostContext&) { return gone(host); });
  // A pending crash (keyed by a hash of host and pid) waits seconds for its pool's failure
  // event, then expires by itself.
}

void RapidFailDetector::OnWatermark(const Watermarks& watermarks, AlertOutput& out) {
  const absl::Duration idle = std::max(config_.thresholds.interval, config_.correlation_window);
  pools_.EraseIf([&](const std::string& key, PoolState& pool) {
    const absl::Time watermark = watermarks.Host(pool.host_clock, HostOf(key));
    if (pool.held_disable && watermark >= pool.held_disable->time) {
      ReleaseHeldDisable(key, pool, /*force=*/true, out);  // what was missing is not coming
    }
    EndIncidentIfQuiet(key, pool, watermark, out);
    // Only the host's own events show that no worker came back: a silent host's pool stays
    // disabled as far as anyone knows.
    const absl::Time give_up = pool.disabled_at + config_.disabled_resolve_after;
    if (pool.disabled.firing() &&
        watermarks.HostObserved(pool.host_clock, HostOf(key)) >= give_up) {
      ResolveDisabled(key, pool, give_up, nullptr, out);
    }
    const bool open = pool.incident_start != absl::InfinitePast() || pool.open();
    return !open && pool.last_seen < watermark - std::max(idle, pool.thresholds->interval);
  });
  // The pid correlation only spans correlation_window (in arrival time: its keys are hashes);
  // companions matter for an interval of their host's time.
  const absl::Time correlation_horizon = watermarks.Arrival() - config_.correlation_window;
  pending_crashes_.EraseIf(
      [&](uint64_t, PendingCrash& c) { return c.last_seen < correlation_horizon; });
  pid_pools_.EraseIf([&](uint64_t, PidPool& p) { return p.last_seen < correlation_horizon; });
  hosts_.EraseIf([&](const std::string& host, HostContext& h) {
    return h.last_seen < watermarks.Host(h.host_clock, host) - idle;
  });
}

RapidFailDetector::Stats RapidFailDetector::stats() const {
  return {.keys = pools_.size() + pending_crashes_.size() + pid_pools_.size() + hosts_.size(),
          .evictions = pools_.evictions() + pending_crashes_.evictions() + pid_pools_.evictions() +
                       hosts_.evictions()};
}

void RapidFailDetector::Emit(Rule rule, std::string_view key, const PoolState& pool, absl::Time now,
                             const Trigger& trigger, AlertOutput& out) const {
  const std::string_view name = kRuleNames[static_cast<int>(rule)];
  const std::string_view host = HostOf(key), app_pool = PoolOf(key);
  const Thresholds& t = *pool.thresholds;
  const AlertState& state = rule == Rule::kBurst      ? pool.burst
                            : rule == Rule::kImminent ? pool.imminent
                                                      : pool.disabled;
  const bool firing = state.firing();
  Alert alert = NewAlert(name, rule == Rule::kBurst ? "warning" : "critical", state, key,
                         pool.incident_start, t.interval, labels_);
  alert.set_host(std::string(host));
  alert.set_app_pool(std::string(app_pool));

  // The failures in the window up to now, then what triggered this alert, then context.
  absl::Time first = pool.incident_start, last = now;
  uint32_t count = 0;
  std::vector<uint32_t> codes;
  for (const auto& entry : pool.failures.entries()) {
    if (entry.time > now) continue;
    const Failure& f = entry.value;
    AddEvidence(&alert, "failure", f.provider, f.event_id, entry.time, f.pid, f.record_id,
                f.exit_code, f.exception_code)
        ->set_faulting_module(f.faulting_module);
    AddCode(f.exit_code, &codes);
    AddCode(f.exception_code, &codes);
    if (count++ == 0) first = entry.time;
  }
  if (trigger.event != nullptr &&
      (trigger.recovered || !IsWorkerFailure(trigger.event->provider, trigger.event->event_id))) {
    AddEvidence(&alert, trigger.recovered ? "recovery" : "disable", trigger.event->provider,
                trigger.event->event_id, trigger.event->time, trigger.event->pid,
                trigger.event->record_id);
  }
  if (const HostContext* context = hosts_.Find(host)) {
    for (size_t i = 0; i < context->recent.size(); ++i) {  // oldest first
      const Companion& c = context->recent[(context->oldest + i) % context->recent.size()];
      if (c.time < first - t.interval || c.time > now) continue;
      AddEvidence(&alert, "context", c.provider, c.event_id, c.time, 0, 0, std::nullopt,
                  std::nullopt, c.detail);
    }
  }
  alert.set_count(count);
  *alert.mutable_first_event_time() = ToProtoTime(first);
  *alert.mutable_last_event_time() = ToProtoTime(last);

  const std::string codes_clause = codes.empty() ? "" : absl::StrCat(" (", CodesText(codes), ")");
  const std::string span = Span(last - first);
  if (!firing) {
    if (rule == Rule::kDisabled && trigger.recovered) {
      alert.set_summary(absl::StrFormat(
          "Application pool '%s' on %s serves again: worker %d seen %s after IIS disabled it.",
          app_pool, host, trigger.event->pid, Span(now - pool.disabled_at)));
    } else if (rule == Rule::kDisabled) {
      alert.set_summary(absl::StrFormat(
          "Application pool '%s' on %s: no sign of a worker %s after IIS disabled it; closing "
          "the alert (disabled_resolve_after). Check that the pool was started.",
          app_pool, host, Span(config_.disabled_resolve_after)));
    } else {
      alert.set_summary(absl::StrFormat(
          "Application pool '%s' on %s: no worker process failure for %s; the incident is over.",
          app_pool, host, Span(t.interval)));
    }
  } else if (rule == Rule::kDisabled && count == 0) {
    // Nothing led up to it here: either it is not rapid-fail (5057/5059), or the failures are
    // not forwarded, and then the warning before an outage cannot come either.
    alert.set_summary(absl::StrFormat(
        "IIS disabled application pool '%s' on %s (event %d); the pool stays stopped (HTTP 503) "
        "until someone starts it. No worker process failure of the pool was seen before it%s.",
        app_pool, host, trigger.event->event_id,
        IsRapidFailDisable(trigger.event->provider, trigger.event->event_id)
            ? ": check that WAS warnings (5009-5013) reach faultline"
            : ""));
  } else if (rule == Rule::kDisabled) {
    alert.set_summary(absl::StrFormat(
        "IIS disabled application pool '%s' on %s (event %d) after %d worker process failure(s) "
        "in %s%s; the pool stays stopped (HTTP 503) until someone starts it.",
        app_pool, host, trigger.event->event_id, count, span, codes_clause));
  } else if (rule == Rule::kImminent) {
    alert.set_summary(absl::StrFormat(
        "Application pool '%s' on %s had %d worker process failures in %s%s: one more before %s "
        "and IIS rapid-fail protection disables it (max %d in %s).",
        app_pool, host, count, span, codes_clause, TimeText(first + t.interval), t.max_crashes,
        absl::FormatDuration(t.interval)));
  } else {
    alert.set_summary(absl::StrFormat(
        "%d worker process failures of application pool '%s' on %s in %s%s; IIS disables the "
        "pool at %d in %s.",
        count, app_pool, host, span, codes_clause, t.max_crashes,
        absl::FormatDuration(t.interval)));
  }
  out.Emit(std::move(alert));
}

}  // namespace faultline

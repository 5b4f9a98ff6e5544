#include "detect/iis/rapid_fail_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/exit_codes.h"
#include "core/strings.h"

namespace faultline {
namespace {

constexpr std::string_view kBurstRule = "iis_worker_failure_burst";
constexpr std::string_view kImminentRule = "iis_rapid_fail_imminent";
constexpr std::string_view kDisabledRule = "iis_app_pool_disabled";

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

// "0x800703E9 stack overflow, 0xC0000005 access violation in native code": each distinct exit
// or exception code once, in order of appearance.
std::string CodesText(const std::vector<uint32_t>& codes) {
  std::vector<std::string> parts;
  for (uint32_t code : codes) {
    const std::string_view meaning = DescribeExitCode(code);
    parts.push_back(meaning.empty() ? FormatCode(code)
                                    : absl::StrCat(FormatCode(code), " ", ToAbsl(meaning)));
  }
  return absl::StrJoin(parts, ", ");
}

void AddCode(std::optional<uint32_t> code, std::vector<uint32_t>* codes) {
  if (code && std::find(codes->begin(), codes->end(), *code) == codes->end()) {
    codes->push_back(*code);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Detector>> RapidFailDetector::Create(const DetectConfig& config) {
  const RapidFailConfig& c = config.iis_rapid_fail;
  std::vector<std::string> errors;
  if (c.max_crashes < 2) {
    errors.push_back(
        absl::StrCat("detect.iis_rapid_fail.max_crashes: must be at least 2, got ", c.max_crashes));
  }
  if (c.burst_threshold < 1) {
    errors.push_back(absl::StrCat("detect.iis_rapid_fail.burst_threshold: must be at least 1, got ",
                                  c.burst_threshold));
  }
  if (c.interval <= absl::ZeroDuration()) {
    errors.push_back(absl::StrCat("detect.iis_rapid_fail.interval: must be positive, got ",
                                  absl::FormatDuration(c.interval)));
  }
  if (c.correlation_window < absl::ZeroDuration()) {
    errors.push_back(
        absl::StrCat("detect.iis_rapid_fail.correlation_window: must not be negative, got ",
                     absl::FormatDuration(c.correlation_window)));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  if (!c.burst_enabled && !c.imminent_enabled && !c.disabled_enabled) return nullptr;
  return std::unique_ptr<Detector>(new RapidFailDetector(config));
}

std::vector<EventKey> RapidFailDetector::Subscriptions() const {
  std::vector<EventKey> keys;
  for (uint32_t id = kWasWorkerTerminated; id <= kWasWorkerShutdownTimeLimit; ++id) {
    keys.push_back({Provider::kWas, id});
  }
  for (uint32_t id = kW3svcWorkerTerminated; id <= kW3svcWorkerShutdownTimeLimit; ++id) {
    keys.push_back({Provider::kW3svc, id});
  }
  keys.push_back({Provider::kApplicationError, kApplicationErrorFaultingApp});
  keys.push_back({Provider::kWas, kWasAppPoolDisabled});
  keys.push_back({Provider::kW3svc, kW3svcAppPoolDisabled});
  return keys;
}

const std::string& RapidFailDetector::PoolKey(std::string_view host, std::string_view pool) {
  key_.assign(host);
  key_.push_back('\x1f');
  key_.append(pool);
  return key_;
}

const std::string& RapidFailDetector::PidKey(std::string_view host, uint32_t pid) {
  key_.assign(host);
  key_.push_back('\x1f');
  absl::StrAppend(&key_, pid);
  return key_;
}

void RapidFailDetector::OnEvent(const Event& event, AlertOutput& out) {
  if (IsWorkerFailure(event.provider, event.event_id)) {
    OnWorkerFailure(event, out);
  } else if (IsAppPoolDisabled(event.provider, event.event_id)) {
    OnPoolDisabled(event, out);
  } else if (event.provider == Provider::kApplicationError) {
    OnApplicationCrash(event);
  }
  Sweep(event.time);
}

void RapidFailDetector::OnApplicationCrash(const Event& event) {
  if (event.pid == 0 || !EqualsIgnoreCase(event.faulting_app, "w3wp.exe")) return;
  if (auto it = pid_pools_.find(PidKey(event.host, event.pid)); it != pid_pools_.end()) {
    // The WAS event came first: enrich the failure already counted.
    if (auto pool = pools_.find(it->second.pool_key); pool != pools_.end()) {
      for (auto& entry : pool->second.failures.entries()) {
        if (entry.value.pid != event.pid) continue;
        if (!entry.value.exception_code) entry.value.exception_code = event.exception_code;
        if (entry.value.faulting_module.empty()) {
          entry.value.faulting_module = event.faulting_module;
        }
        return;
      }
    }
  }
  pending_crashes_.insert_or_assign(
      PidKey(event.host, event.pid),
      PendingCrash{event.time, event.exception_code.value_or(0), event.faulting_module});
}

void RapidFailDetector::OnWorkerFailure(const Event& event, AlertOutput& out) {
  if (event.app_pool.empty()) return;  // nothing to key on
  auto [pool_it, inserted] =
      pools_.try_emplace(PoolKey(event.host, event.app_pool), config_.interval);
  const std::string& pool_key = pool_it->first;
  PoolState& pool = pool_it->second;
  auto& entries = pool.failures.entries();
  if (event.pid != 0) {
    for (auto& entry : entries) {
      if (entry.value.pid == event.pid) {  // the same worker died once: count it once
        if (!entry.value.exit_code) entry.value.exit_code = event.exit_code;
        return;
      }
    }
  }
  Failure failure{event.provider,  event.event_id, event.pid, event.record_id,
                  event.exit_code, std::nullopt,   {}};
  if (event.pid != 0) {
    if (auto it = pending_crashes_.find(PidKey(event.host, event.pid));
        it != pending_crashes_.end()) {
      if (absl::AbsDuration(it->second.time - event.time) <= config_.correlation_window) {
        if (it->second.exception_code != 0) failure.exception_code = it->second.exception_code;
        failure.faulting_module = std::move(it->second.faulting_module);
      }
      pending_crashes_.erase(it);
    }
  }
  if (pool.failures.Add(event.time, std::move(failure)) == nullptr) return;  // too old
  Touch(pool, event.time);
  if (event.pid != 0) {
    pid_pools_.insert_or_assign(PidKey(event.host, event.pid), PidPool{event.time, pool_key});
  }
  const int count = static_cast<int>(pool.failures.size());
  if (config_.burst_enabled && count >= config_.burst_threshold) Fire(kBurst, event, pool, out);
  if (config_.imminent_enabled && count >= config_.max_crashes - 1) {
    Fire(kImminent, event, pool, out);
  }
}

void RapidFailDetector::OnPoolDisabled(const Event& event, AlertOutput& out) {
  if (event.app_pool.empty() || !config_.disabled_enabled) return;
  PoolState& pool =
      pools_.try_emplace(PoolKey(event.host, event.app_pool), config_.interval).first->second;
  Touch(pool, event.time);  // disabled with no failure seen: an incident of its own
  Fire(kDisabled, event, pool, out);
}

void RapidFailDetector::Touch(PoolState& pool, absl::Time time) const {
  if (pool.last_seen == absl::InfinitePast() || time >= pool.last_seen + config_.interval) {
    pool.incident_start = time;
    pool.fired = 0;
  }
  pool.last_seen = std::max(pool.last_seen, time);
}

void RapidFailDetector::Fire(Rule rule, const Event& event, PoolState& pool,
                             AlertOutput& out) const {
  if (pool.fired & rule) return;
  pool.fired |= rule;

  Alert alert;
  const std::string_view name = rule == kBurst      ? kBurstRule
                                : rule == kImminent ? kImminentRule
                                                    : kDisabledRule;
  alert.set_rule(std::string(name));
  alert.set_severity(rule == kBurst ? "warning" : "critical");
  alert.set_status("firing");
  alert.set_host(event.host);
  alert.set_app_pool(event.app_pool);
  alert.set_window_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(config_.interval)));
  alert.set_fingerprint(
      StableId({name, event.host, event.app_pool, TimeText(pool.incident_start)}));
  for (const auto& [k, v] : labels_) (*alert.mutable_labels())[k] = v;

  // Evidence: the failures in the window up to this event, then the disabling event itself.
  absl::Time first = event.time, last = event.time;
  uint32_t count = 0;
  std::vector<uint32_t> codes;
  for (const auto& entry : pool.failures.entries()) {
    if (entry.time > event.time || entry.time <= event.time - config_.interval) continue;
    const Failure& f = entry.value;
    Evidence* e = alert.add_evidence();
    e->set_provider(std::string(ProviderName(f.provider)));
    e->set_event_id(f.event_id);
    *e->mutable_time() = ToProtoTime(entry.time);
    e->set_pid(f.pid);
    e->set_record_id(f.record_id);
    if (f.exit_code) e->set_exit_code(FormatCode(*f.exit_code));
    if (f.exception_code) e->set_exception_code(FormatCode(*f.exception_code));
    e->set_faulting_module(f.faulting_module);
    const std::optional<uint32_t> code = f.exception_code ? f.exception_code : f.exit_code;
    if (code) e->set_meaning(std::string(DescribeExitCode(*code)));
    AddCode(f.exit_code, &codes);
    AddCode(f.exception_code, &codes);
    if (count == 0) first = entry.time;
    last = entry.time;
    ++count;
  }
  const std::string codes_clause = codes.empty() ? "" : absl::StrCat(" (", CodesText(codes), ")");
  const std::string span = absl::FormatDuration(last - first);
  if (rule == kDisabled) {
    Evidence* e = alert.add_evidence();
    e->set_provider(std::string(ProviderName(event.provider)));
    e->set_event_id(event.event_id);
    *e->mutable_time() = ToProtoTime(event.time);
    e->set_record_id(event.record_id);
    last = event.time;
    alert.set_summary(absl::StrFormat(
        "IIS rapid-fail protection disabled application pool '%s' on %s after %d worker "
        "process failure(s) in %s%s; the pool stays stopped (HTTP 503) until someone starts it.",
        event.app_pool, event.host, count, span, codes_clause));
  } else if (rule == kImminent) {
    alert.set_summary(absl::StrFormat(
        "Application pool '%s' on %s had %d worker process failures in %s%s: one more before "
        "%s and IIS rapid-fail protection disables it (max %d in %s).",
        event.app_pool, event.host, count, span, codes_clause, TimeText(first + config_.interval),
        config_.max_crashes, absl::FormatDuration(config_.interval)));
  } else {
    alert.set_summary(absl::StrFormat(
        "%d worker process failures of application pool '%s' on %s in %s%s; IIS disables the "
        "pool at %d in %s.",
        count, event.app_pool, event.host, span, codes_clause, config_.max_crashes,
        absl::FormatDuration(config_.interval)));
  }
  alert.set_count(count);
  *alert.mutable_first_event_time() = ToProtoTime(first);
  *alert.mutable_last_event_time() = ToProtoTime(last);
  out.Emit(std::move(alert));
}

void RapidFailDetector::Sweep(absl::Time now) {
  if (pools_.size() + pending_crashes_.size() + pid_pools_.size() < sweep_at_) return;
  const absl::Time horizon = now - std::max(config_.interval, config_.correlation_window);
  for (auto it = pending_crashes_.begin(); it != pending_crashes_.end();) {
    if (it->second.time < horizon) {
      pending_crashes_.erase(it++);
    } else {
      ++it;
    }
  }
  for (auto it = pid_pools_.begin(); it != pid_pools_.end();) {
    if (it->second.time < horizon) {
      pid_pools_.erase(it++);
    } else {
      ++it;
    }
  }
  for (auto it = pools_.begin(); it != pools_.end();) {
    if (it->second.last_seen < horizon) {
      pools_.erase(it++);
    } else {
      ++it;
    }
  }
  sweep_at_ =
      std::max<size_t>(1024, 2 * (pools_.size() + pending_crashes_.size() + pid_pools_.size()));
}

}  // namespace faultline

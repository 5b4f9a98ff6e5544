// Detection settings as plain validated structs (app/config.cc fills them from YAML; tests build
// them inline). Each detector plugin has its own section.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace faultline {

// Rapid-fail settings for the pools and hosts whose names match the glob patterns (`*`, `?`,
// case-insensitive). The first matching override wins; unset fields keep the defaults.
struct RapidFailOverride {
  std::string host = "*";
  std::string app_pool = "*";
  std::optional<int> max_crashes;
  std::optional<absl::Duration> interval;
  std::optional<int> burst_threshold;
};

// IIS rapid-fail protection as configured in applicationHost.config <failure>, and the three
// rules faultline derives from it. Defaults are IIS's: 5 failures in 5 minutes.
struct RapidFailConfig {
  int max_crashes = 5;                         // rapidFailProtectionMaxCrashes
  absl::Duration interval = absl::Minutes(5);  // rapidFailProtectionInterval
  int burst_threshold = 3;                     // iis_worker_failure_burst fires at this count
  // How far apart an Application Error 1000 for w3wp.exe and the WAS event of the same worker
  // pid may be and still count as one failure.
  absl::Duration correlation_window = absl::Minutes(2);
  // A disabled pool's alert resolves when a worker of the pool is seen again, or after this.
  absl::Duration disabled_resolve_after = absl::Hours(1);
  // Which worker-process failures count (WAS 5009-5013, W3SVC 1009-1013); e.g. leave out 5010
  // (ping failures) for pools that are slow by design.
  std::vector<uint32_t> failure_events = {5009, 5010, 5011, 5012, 5013,
                                          1009, 1010, 1011, 1012, 1013};
  bool burst_enabled = true;
  bool imminent_enabled = true;
  bool disabled_enabled = true;
  std::vector<RapidFailOverride> overrides;
};

// Thresholds for the hosts and services matching the glob patterns; first match wins.
struct ServiceCrashLoopOverride {
  std::string host = "*";
  std::string service = "*";
  std::optional<int> threshold;
  std::optional<absl::Duration> window;
};

// Service Control Manager 7031/7034 per (host, service key).
struct ServiceCrashLoopConfig {
  bool enabled = true;
  int threshold = 3;  // terminations in the window, or "done this N time(s)"
  absl::Duration window = absl::Minutes(10);
  std::vector<uint32_t> events = {7031, 7034};  // 7031: with recovery action; 7034: without
  std::vector<ServiceCrashLoopOverride> overrides;
};

// Thresholds for the pools matching the glob pattern; first match wins.
struct FleetOverride {
  std::string app_pool = "*";
  std::optional<int> min_hosts;
  std::optional<absl::Duration> window;
};

// The same application pool failing on several hosts at once (a bad deployment or patch).
struct FleetConfig {
  bool enabled = true;
  int min_hosts = 3;
  absl::Duration window = absl::Minutes(5);
  std::vector<FleetOverride> overrides;
};

struct DetectConfig {
  // A record (host, channel, record id) seen again within this window is dropped as a
  // forwarder redelivery; 0 disables.
  absl::Duration dedupe_window = absl::Minutes(10);
  // Events older than their own host and channel's newest event by more than this are late:
  // only what cannot reopen a closed incident still uses them (a pool-disabled event, a failure
  // inside an open incident); the rest are counted too_late. Other hosts never make an event late.
  absl::Duration allowed_lateness = absl::Minutes(2);
  // An event logged more than this ahead of its arrival (its Kafka timestamp, or the stream clock
  // in replay) is counted clock_ahead; a host that runs ahead gets its measured offset taken off
  // its times, and never moves another host's time.
  absl::Duration max_clock_skew = absl::Minutes(10);
  // Events logged more than this before their Kafka timestamp are counted too_old and skipped
  // (a forwarder re-reading an old log); 0: never. replay (no broker time) skips nothing.
  absl::Duration max_event_age = absl::Hours(24 * 7);
  // Hosts whose event time is kept; beyond it the least recently seen are evicted (counted).
  int max_hosts = 100'000;
  // A firing alert is sent again, as an update, when its count grew, at most this often.
  absl::Duration renotify_interval = absl::Minutes(5);
  // Per detector: beyond this many keys the least recently seen are evicted (and counted).
  int max_keys = 100'000;
  // Added to every alert's labels (team, environment, ...).
  std::map<std::string, std::string> labels;
  RapidFailConfig iis_rapid_fail;
  ServiceCrashLoopConfig service_crash_loop;
  FleetConfig fleet_app_pool_failures;
};

}  // namespace faultline

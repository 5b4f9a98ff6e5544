// The `detect:` section: what the engine needs (deduplication, clocks) and what every detector
// gets (DetectorContext), plus each registered detector's own settings, declared by the
// detector in its folder (a settings::Schema) and held here by name.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "core/settings.h"

namespace faultline {

// What every detector's factory receives besides its own settings.
struct DetectorContext {
  // Added to every alert's labels (team, environment, ...).
  std::map<std::string, std::string> labels;
  // A firing alert is sent again, as an update, when its count grew, at most this often.
  absl::Duration renotify_interval = absl::Minutes(5);
  // Events older than their own host and channel's newest event by more than this are late:
  // only what cannot reopen a closed incident still uses them (a pool-disabled event, a failure
  // inside an open incident); the rest are counted too_late. Other hosts never make an event late.
  absl::Duration allowed_lateness = absl::Minutes(2);
  // Per detector: beyond this many keys the least recently seen are evicted (and counted).
  int max_keys = 100'000;
};

struct DetectConfig {
  DetectorContext context;
  // A record (host, channel, record id) seen again within this window is dropped as a
  // forwarder redelivery; 0 disables.
  absl::Duration dedupe_window = absl::Minutes(10);
  // An event logged more than this ahead of its arrival is counted clock_ahead; a host that runs
  // ahead gets its measured offset taken off its times, and never moves another host's time.
  absl::Duration max_clock_skew = absl::Minutes(10);
  // Events logged more than this before their Kafka timestamp are counted too_old and skipped
  // (a forwarder re-reading an old log); 0: never. replay (no broker time) skips nothing.
  absl::Duration max_event_age = absl::Hours(24 * 7);
  // Hosts whose event time is kept; beyond it the least recently seen are evicted (counted).
  int max_hosts = 100'000;
  // Each detector's settings by its registry name, as its schema read them; a detector absent
  // here gets its defaults.
  std::map<std::string, settings::AnySettings, std::less<>> detectors;
};

// The common keys of `detect:`; DetectorRegistry adds a section per detector.
std::unique_ptr<settings::Schema<DetectConfig>> NewDetectSchema();

}  // namespace faultline

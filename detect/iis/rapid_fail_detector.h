// IIS rapid-fail protection, modelled per (host, application pool) in event time. One plugin, one
// window of worker failures per pool, three rules read from it:
//   iis_worker_failure_burst   burst_threshold failures inside the interval           (warning)
//   iis_rapid_fail_imminent    max_crashes - 1 failures: the next one disables the pool (critical)
//   iis_app_pool_disabled      WAS 5002/5057/5059, W3SVC 1002, with the failures as evidence
// A failure is a WAS 5009-5013 / W3SVC 1009-1013 event. An Application Error 1000 for w3wp.exe
// is the same crash seen from the Application log: matched to the WAS event of the same worker
// pid (either order, within correlation_window) it adds its exception code to that failure
// instead of counting again.
//
// Lifecycle (detect/lifecycle.h): an incident is a run of failures with no quiet interval; each
// rule fires once per incident, is updated as the count grows at most every re-notify interval,
// and resolves when the window drains. Once imminent fires, burst stops updating (the higher rule
// speaks for the incident), so a pool failing all hour gives a handful of alerts, not one per
// failure. The disabled alert resolves when a worker of the pool is seen again (a recycle, an
// idle shutdown, a new failure) or after disabled_resolve_after. All alerts of an incident share
// its incident id. Companion events of the host (.NET Runtime 1026, ASP.NET 1309, IIS-W3SVC-WP
// 2280/2282, IMAP4 1036) within the window are attached as context evidence.
//
// Time is the host's own (detect/watermarks.h): windows and renotify run on its event times,
// incidents resolve as its watermark passes their window. A rapid-fail disable (WAS 5002, W3SVC
// 1002) that arrives before the failures IIS counted (out of order within the allowance) waits
// until max_crashes - 1 of them are in, at most until its host's watermark passes it, so the
// warning that preceded the outage is still raised first and the disabled alert has evidence. A
// disabled alert times out (disabled_resolve_after) only on the host's observed time: a host that
// goes silent keeps its pool's alert firing. Late events (beyond the allowance) still raise a
// disable, still count inside an incident that is open, and are counted too_late otherwise.
//
// Thresholds can be overridden per host and pool pattern. State is bounded by max_keys per map
// (least recently seen evicted and counted) and idle keys expire with the watermark.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "core/settings.h"
#include "detect/config.h"
#include "detect/detector.h"
#include "detect/lifecycle.h"
#include "detect/overrides.h"
#include "detect/window/composite_key.h"
#include "detect/window/event_time_window.h"
#include "detect/window/keyed_state.h"

namespace faultline {

// What IIS rapid-fail protection counts with, per (host, pool): the section's, or the first
// override whose host and app_pool patterns match. Defaults are IIS's: 5 failures in 5 minutes.
struct RapidFailThresholds {
  int max_crashes = 5;                         // rapidFailProtectionMaxCrashes
  absl::Duration interval = absl::Minutes(5);  // rapidFailProtectionInterval
  int burst_threshold = 3;

  static const settings::Schema<RapidFailThresholds>& Schema();
};

// IIS rapid-fail protection as configured in applicationHost.config <failure>, and the three
// rules faultline derives from it. Descriptions of each key: Schema() (and
// docs/CONFIGURATION.md, generated from it).
struct RapidFailConfig {
  RapidFailThresholds thresholds;  // written in the section itself
  absl::Duration correlation_window = absl::Minutes(2);
  absl::Duration disabled_resolve_after = absl::Hours(1);
  std::vector<uint32_t> failure_events = {5009, 5010, 5011, 5012, 5013,
                                          1009, 1010, 1011, 1012, 1013};
  struct Rules {
    bool burst = true;
    bool imminent = true;
    bool disabled = true;
  } rules;
  std::vector<settings::Override<RapidFailThresholds, 2>> overrides;  // by (host, app_pool)

  static const settings::Schema<RapidFailConfig>& Schema();
};

class RapidFailDetector final : public Detector {
 public:
  static absl::StatusOr<std::unique_ptr<Detector>> Create(const RapidFailConfig& config,
                                                          const DetectorContext& context);

  std::string_view name() const override { return "iis_rapid_fail"; }
  std::vector<EventKey> Subscriptions() const override;
  void OnEvent(const Event& event, AlertOutput& out) override;
  bool OnLateEvent(const Event& event, AlertOutput& out) override;
  void OnWatermark(const Watermarks& watermarks, AlertOutput& out) override;
  void Forget(const absl::flat_hash_set<std::string>& hosts) override;
  Stats stats() const override;
  absl::Duration horizon() const override {
    return std::max(thresholds_.Max(&Thresholds::interval), config_.correlation_window);
  }

 private:
  using Thresholds = RapidFailThresholds;
  struct Failure {
    Provider provider;
    uint32_t event_id;
    uint32_t pid;
    uint64_t record_id;
    std::optional<uint32_t> exit_code;
    std::optional<uint32_t> exception_code;
    std::string faulting_module;
  };
  struct PoolState {
    explicit PoolState(const Thresholds* t) : thresholds(t), failures(t->interval) {}
    const Thresholds* thresholds;
    EventTimeWindow<Failure> failures;
    absl::Time last_seen = absl::InfinitePast();  // newest event of any kind: LRU and idle
    HostRef host_clock;                           // its host's clock (Event::host_clock)
    absl::Time last_failure = absl::InfinitePast();
    absl::Time incident_start = absl::InfinitePast();  // InfinitePast: no incident open
    absl::Time disabled_at = absl::InfinitePast();
    AlertState burst, imminent, disabled;
    // A rapid-fail disable that came before the failures it counted, waiting for them.
    std::unique_ptr<Event> held_disable;
    // Evicted last when max_keys is reached: a firing alert must still resolve.
    bool open() const {
      return burst.firing() || imminent.firing() || disabled.firing() || held_disable;
    }
  };
  // An Application Error 1000 for w3wp.exe whose WAS event has not been seen yet. The
  // correlation maps expire in arrival time (last_seen): they are keyed by a hash, not a host.
  struct PendingCrash {
    absl::Time last_seen;  // arrival
    absl::Time time;       // event time
    std::optional<uint32_t> exception_code;
    std::string faulting_module;
  };
  struct PidPool {
    absl::Time last_seen;  // arrival
    std::string pool_key;
  };
  struct Companion {
    absl::Time time;
    Provider provider;
    uint32_t event_id;
    std::string detail;
  };
  struct HostContext {
    absl::Time last_seen;
    HostRef host_clock;
    // The last few, a ring once full: recent[oldest] is the oldest (0 until it is full).
    std::vector<Companion> recent;
    size_t oldest = 0;
  };
  enum class Rule { kBurst, kImminent, kDisabled };
  // Why an alert is emitted, for its evidence and summary.
  struct Trigger {
    const Event* event = nullptr;  // the event that caused it, if any
    bool recovered = false;        // a disabled alert resolved by a live worker
  };

  RapidFailDetector(const RapidFailConfig& config, const DetectorContext& context);

  // Each returns whether the event counted (for late events: whether it was still of use).
  bool OnWorkerFailure(const Event& event, AlertOutput& out);
  bool OnApplicationCrash(const Event& event);
  // `may_wait`: a rapid-fail disable missing its failures waits for them (not for late events).
  bool OnPoolDisabled(const Event& event, bool may_wait, AlertOutput& out);
  bool OnWorkerAlive(const Event& event, AlertOutput& out);
  void OnCompanion(const Event& event);
  // Fires the disabled alert for `event` (a pool-disabled event).
  void FireDisabled(std::string_view key, PoolState& pool, const Event& event, AlertOutput& out);
  static uint32_t FailuresUpTo(const PoolState& pool, absl::Time t);
  // The count at which iis_rapid_fail_imminent fires: the next failure disables the pool.
  static uint32_t ImminentAt(const PoolState& pool) {
    return static_cast<uint32_t>(pool.thresholds->max_crashes - 1);
  }
  // Fires a held disable once the warning's worth of failures is in, or when `force`d.
  void ReleaseHeldDisable(std::string_view key, PoolState& pool, bool force, AlertOutput& out);
  // Resolves burst and imminent when the pool had no failure for an interval before `now`.
  void EndIncidentIfQuiet(std::string_view key, PoolState& pool, absl::Time now, AlertOutput& out);
  // Fires or updates `rule` if its AlertState says so.
  void Notify(Rule rule, AlertState& state, uint32_t count, std::string_view key,
              const PoolState& pool, const Event& event, AlertOutput& out) const;
  // Resolves the pool's disabled alert (recovery: `event` shows a live worker).
  void ResolveDisabled(std::string_view key, PoolState& pool, absl::Time now, const Event* event,
                       AlertOutput& out) const;
  // Builds and emits `rule`'s alert; firing or resolved as the rule's AlertState says.
  void Emit(Rule rule, std::string_view key, const PoolState& pool, absl::Time now,
            const Trigger& trigger, AlertOutput& out) const;
  const Thresholds* ThresholdsFor(std::string_view host, std::string_view pool) const {
    return &thresholds_.For({host, pool});
  }
  // "host \x1f pool", built in pool_key_ (reused: no allocation for known pools).
  const std::string& PoolKey(std::string_view host, std::string_view pool) {
    return pool_key_.Of(host, pool);
  }
  // A worker is identified by (host, pid): a 64-bit hash keys the correlation maps, so a failure
  // allocates no key string for them.
  static uint64_t PidKey(std::string_view host, uint32_t pid);

  RapidFailConfig config_;
  absl::Duration renotify_;
  absl::Duration lateness_;
  std::map<std::string, std::string> labels_;
  PatternOverrides<Thresholds, 2> thresholds_;          // by (host, pool)
  KeyedState<PoolState> pools_;                         // PoolKey
  KeyedState<PendingCrash, uint64_t> pending_crashes_;  // PidKey
  KeyedState<PidPool, uint64_t> pid_pools_;             // PidKey
  KeyedState<HostContext> hosts_;                       // host
  CompositeKey pool_key_;
};

}  // namespace faultline

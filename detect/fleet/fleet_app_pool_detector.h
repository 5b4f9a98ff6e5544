// fleet_app_pool_failures: the same application pool failing on at least `min_hosts` distinct
// hosts within the window (a bad deployment, patch or dependency): one incident listing the
// hosts, instead of one alert per host. Keyed by pool name (case-insensitive, as IIS treats it).
// Fires, updates as more hosts join (at most every re-notify interval), resolves when the window
// drains. With forwarders keyed by host, one consumer sees only its partitions' hosts: with
// several instances, set ingest.pool_topic, and it runs where each pool's failures meet
// (detect/pool_forward.h).
//
// Time: each host's failure counts at its own event time, with the host's measured clock offset
// taken off (the engine corrects the times of a host whose clock runs ahead). The count is the
// most hosts whose latest failures fit in one window with the failure that arrived, so a backlog
// of yesterday's failures never joins today's incident and a host stamped far ahead joins
// nothing and moves nothing. No single host owns a pool, so the pool's state resolves and
// expires on the arrival clock: a window (plus the lateness) after its last failure arrived. A
// host whose failures arrive more than that after the others' (a forwarder hours behind) can
// join only hosts lagging like it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/settings.h"
#include "detect/config.h"
#include "detect/detector.h"
#include "detect/lifecycle.h"
#include "detect/overrides.h"
#include "detect/window/keyed_state.h"

namespace faultline {

// When a pool's failures across hosts fire: the section's, or the first override whose app_pool
// pattern matches.
struct FleetThresholds {
  int min_hosts = 3;
  absl::Duration window = absl::Minutes(5);

  static const settings::Schema<FleetThresholds>& Schema();
};

// The same application pool failing on several hosts at once; keys described in Schema().
struct FleetConfig {
  bool enabled = true;
  FleetThresholds thresholds;                                     // written in the section itself
  std::vector<settings::Override<FleetThresholds, 1>> overrides;  // by app_pool

  static const settings::Schema<FleetConfig>& Schema();
};

class FleetAppPoolDetector final : public Detector {
 public:
  // Evidence entries of one alert (one per host, alphabetically); `count` has them all.
  static constexpr size_t kMaxEvidenceHosts = 50;

  static absl::StatusOr<std::unique_ptr<Detector>> Create(const FleetConfig& config,
                                                          const DetectorContext& context);

  std::string_view name() const override { return "fleet_app_pool_failures"; }
  std::vector<EventKey> Subscriptions() const override;
  void OnEvent(const Event& event, AlertOutput& out) override;
  void OnWatermark(const Watermarks& watermarks, AlertOutput& out) override;
  Stats stats() const override { return {pools_.size(), pools_.evictions()}; }
  absl::Duration horizon() const override { return thresholds_.Max(&Thresholds::window); }
  StateKey state_key() const override { return StateKey::kAppPool; }
  void Forget(const absl::flat_hash_set<std::string>& pools) override;

 private:
  // A host's latest failure of the pool.
  struct HostFailure {
    absl::Time time;
    absl::Time arrival;
    Provider provider;
    uint32_t event_id;
    uint32_t pid;
  };
  // Hosts are kept in a map, not a window of failures: a pool name such as DefaultAppPool spans
  // thousands of hosts, and counting distinct hosts by scanning failures was quadratic (found
  // by bench/replay_at_scale.py).
  using Thresholds = FleetThresholds;
  struct PoolState {
    explicit PoolState(const Thresholds* t) : thresholds(t) {}
    const Thresholds* thresholds;
    absl::flat_hash_map<std::string, HostFailure> hosts;
    size_t prune_at = 64;  // prune expired hosts when the map reaches this size
    std::string pool;      // as first seen, for display
    absl::Time last_seen = absl::InfinitePast();  // arrival of its latest-arriving failure
    absl::Time incident_start = absl::InfinitePast();
    // The window the alert last counted: its hosts are the evidence.
    absl::Time counted_from = absl::InfinitePast(), counted_to = absl::InfinitePast();
    AlertState alert;
    bool open() const { return alert.firing(); }  // evicted last
  };

  FleetAppPoolDetector(const FleetConfig& config, const DetectorContext& context);
  const Thresholds* ThresholdsFor(std::string_view pool) const { return &thresholds_.For({pool}); }
  // Drops hosts whose failure arrived long before `arrival` (their pool resolved without them).
  void Prune(PoolState& state, absl::Time arrival) const;
  // The most hosts whose latest failures fit in one window together with time `t`, and that
  // window's first and last failure times.
  struct Window {
    uint32_t hosts = 0;
    absl::Time from, to;
  };
  Window Around(const PoolState& state, absl::Time t);
  // Hosts whose latest failure lies in the counted window, sorted by name.
  std::vector<std::string> Hosts(const PoolState& state) const;
  // Resolves the pool's alert (if firing) and forgets its hosts.
  void End(std::string_view key, PoolState& state, AlertOutput& out);
  void Emit(std::string_view key, const PoolState& state, absl::Time now, AlertOutput& out) const;

  FleetConfig config_;
  absl::Duration renotify_;
  absl::Duration lateness_;
  std::map<std::string, std::string> labels_;
  PatternOverrides<Thresholds, 1> thresholds_;  // by pool
  KeyedState<PoolState> pools_;                 // lowercased pool name
  std::string key_;
  std::vector<absl::Time> times_;  // Around's scratch (reused: no allocation per event)
};

}  // namespace faultline

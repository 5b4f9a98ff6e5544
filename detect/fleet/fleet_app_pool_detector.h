// fleet_app_pool_failures: the same application pool failing on at least `min_hosts` distinct
// hosts within the window (a bad deployment, patch or dependency): one incident listing the
// hosts, instead of one alert per host. Keyed by pool name (case-insensitive, as IIS treats it).
// Fires, updates as more hosts join (at most every re-notify interval), resolves when the window
// drains. With forwarders keyed by host, one consumer sees only its partitions' hosts: run it
// where the pool's events meet (one instance, or the pool-keyed topic of DESIGN.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "detect/config.h"
#include "detect/detector.h"
#include "detect/lifecycle.h"
#include "detect/window/event_time_window.h"
#include "detect/window/keyed_state.h"

namespace faultline {

class FleetAppPoolDetector final : public Detector {
 public:
  static absl::StatusOr<std::unique_ptr<Detector>> Create(const DetectConfig& config);

  std::string_view name() const override { return "fleet_app_pool_failures"; }
  std::vector<EventKey> Subscriptions() const override;
  void OnEvent(const Event& event, AlertOutput& out) override;
  void OnWatermark(absl::Time watermark, AlertOutput& out) override;
  Stats stats() const override { return {pools_.size(), pools_.evictions()}; }

 private:
  struct HostFailure {
    std::string host;
    Provider provider;
    uint32_t event_id;
    uint32_t pid;
  };
  struct PoolState {
    explicit PoolState(absl::Duration window) : failures(window, /*max_entries=*/1024) {}
    EventTimeWindow<HostFailure> failures;
    std::string pool;  // as first seen, for display
    absl::Time last_seen = absl::InfinitePast();
    absl::Time incident_start = absl::InfinitePast();
    AlertState alert;
  };

  explicit FleetAppPoolDetector(const DetectConfig& config);
  std::vector<std::string> Hosts(const PoolState& state) const;
  bool EndIfQuiet(std::string_view key, PoolState& state, absl::Time now, AlertOutput& out);
  void Emit(bool firing, std::string_view key, const PoolState& state, absl::Time now,
            AlertOutput& out) const;

  FleetConfig config_;
  absl::Duration renotify_;
  std::map<std::string, std::string> labels_;
  KeyedState<PoolState> pools_;  // lowercased pool name
  std::string key_;
};

}  // namespace faultline

// IIS rapid-fail protection, modelled per (host, application pool) in event time. One plugin,
// one window of worker failures per pool, three rules read from it:
//   iis_worker_failure_burst   `burst_threshold` failures inside the interval       (warning)
//   iis_rapid_fail_imminent    max_crashes - 1 failures: the next one disables the pool (critical)
//   iis_app_pool_disabled      WAS 5002 / W3SVC 1002, with the failures as evidence   (critical)
// A failure is a WAS 5009-5013 / W3SVC 1009-1013 event. An Application Error 1000 for w3wp.exe
// is the same crash seen from the Application log: matched to the WAS event of the same worker
// pid (either order, within correlation_window) it adds its exception code to that failure
// instead of counting again. Each rule fires once per incident (a run of failures that never
// drains the window); the fingerprint is rule + host + pool + the incident's first failure.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "detect/config.h"
#include "detect/detector.h"
#include "detect/window/event_time_window.h"

namespace faultline {

class RapidFailDetector final : public Detector {
 public:
  static absl::StatusOr<std::unique_ptr<Detector>> Create(const DetectConfig& config);

  std::string_view name() const override { return "iis_rapid_fail"; }
  std::vector<EventKey> Subscriptions() const override;
  void OnEvent(const Event& event, AlertOutput& out) override;

  size_t pools_tracked() const { return pools_.size(); }

 private:
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
    explicit PoolState(absl::Duration interval) : failures(interval) {}
    EventTimeWindow<Failure> failures;
    absl::Time incident_start = absl::InfinitePast();
    // The newest failure or disable event of the pool: an incident ends when nothing happened
    // for a whole interval.
    absl::Time last_seen = absl::InfinitePast();
    uint8_t fired = 0;  // bit per rule, reset when a new incident starts
  };
  // An Application Error 1000 for w3wp.exe whose WAS event has not been seen yet.
  struct PendingCrash {
    absl::Time time;
    uint32_t exception_code;
    std::string faulting_module;
  };
  struct PidPool {
    absl::Time time;
    std::string pool_key;
  };
  enum Rule : uint8_t { kBurst = 1, kImminent = 2, kDisabled = 4 };

  explicit RapidFailDetector(const DetectConfig& config)
      : config_(config.iis_rapid_fail), labels_(config.labels) {}

  void OnWorkerFailure(const Event& event, AlertOutput& out);
  void OnApplicationCrash(const Event& event);
  void OnPoolDisabled(const Event& event, AlertOutput& out);
  // Starts a new incident when the pool was quiet for a whole interval before `time`.
  void Touch(PoolState& pool, absl::Time time) const;
  void Fire(Rule rule, const Event& event, PoolState& pool, AlertOutput& out) const;
  const std::string& PoolKey(std::string_view host, std::string_view pool);
  const std::string& PidKey(std::string_view host, uint32_t pid);
  // Drops correlation entries and drained pools older than the windows, amortized: runs when
  // the maps have doubled since the last sweep, so state stays proportional to recent activity.
  void Sweep(absl::Time now);

  RapidFailConfig config_;
  std::map<std::string, std::string> labels_;
  absl::flat_hash_map<std::string, PoolState> pools_;               // host \x1f pool
  absl::flat_hash_map<std::string, PendingCrash> pending_crashes_;  // host \x1f pid
  absl::flat_hash_map<std::string, PidPool> pid_pools_;             // host \x1f pid
  size_t sweep_at_ = 1024;
  std::string key_;  // reused key buffer: lookups of existing keys allocate nothing
};

}  // namespace faultline

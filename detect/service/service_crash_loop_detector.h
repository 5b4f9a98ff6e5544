// service_crash_loop: Service Control Manager 7031/7034 ("the X service terminated unexpectedly.
// It has done this N time(s)") per (host, service key name), in event time. Fires when
// `threshold` terminations fall in the window, or when one event's own "done this N time(s)" count
// reaches the threshold (SCM counts across restarts we may not have seen). Lifecycle as every
// detector: fire, update at most every re-notify interval, resolve when the window drains on the
// host's own watermark. A late event (beyond the allowance) still counts if it is decisive (its
// own count reaches the threshold) or falls in an incident that is open; otherwise it is
// counted too_late.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// When a service's terminations fire, per (host, service): the section's, or the first override
// whose host and service patterns match.
struct ServiceCrashLoopThresholds {
  int threshold = 3;
  absl::Duration window = absl::Minutes(10);

  static const settings::Schema<ServiceCrashLoopThresholds>& Schema();
};

// Service Control Manager 7031/7034 per (host, service key); keys described in Schema().
struct ServiceCrashLoopConfig {
  bool enabled = true;
  ServiceCrashLoopThresholds thresholds;  // written in the section itself
  std::vector<uint32_t> events = {kScmServiceTerminatedUnexpectedly,
                                  kScmServiceTerminatedNoRecovery};
  std::vector<settings::Override<ServiceCrashLoopThresholds, 2>> overrides;  // (host, service)

  static const settings::Schema<ServiceCrashLoopConfig>& Schema();
};

class ServiceCrashLoopDetector final : public Detector {
 public:
  static absl::StatusOr<std::unique_ptr<Detector>> Create(const ServiceCrashLoopConfig& config,
                                                          const DetectorContext& context);

  std::string_view name() const override { return "service_crash_loop"; }
  std::vector<EventKey> Subscriptions() const override;
  void OnEvent(const Event& event, AlertOutput& out) override { Count(event, out); }
  bool OnLateEvent(const Event& event, AlertOutput& out) override;
  void OnWatermark(const Watermarks& watermarks, AlertOutput& out) override;
  void Forget(const absl::flat_hash_set<std::string>& hosts) override;
  Stats stats() const override { return {pools_.size(), pools_.evictions()}; }
  absl::Duration horizon() const override { return thresholds_.Max(&Thresholds::window); }

 private:
  struct Termination {
    uint32_t event_id;
    uint32_t occurrences;
    uint64_t record_id;
  };
  using Thresholds = ServiceCrashLoopThresholds;
  struct ServiceState {
    explicit ServiceState(const Thresholds* t) : thresholds(t), terminations(t->window) {}
    const Thresholds* thresholds;
    EventTimeWindow<Termination> terminations;
    absl::Time last_seen = absl::InfinitePast();
    HostRef host_clock;  // its host's clock (Event::host_clock)
    absl::Time incident_start = absl::InfinitePast();
    AlertState alert;
    bool open() const { return alert.firing(); }  // evicted last
  };

  ServiceCrashLoopDetector(const ServiceCrashLoopConfig& config, const DetectorContext& context);
  // Counts one termination; false if the window could not take it (older than it reaches).
  bool Count(const Event& event, AlertOutput& out);
  // "host \x1f service", built in key_.
  const std::string& Key(const Event& event) { return key_.Of(event.host, event.service); }
  const Thresholds* ThresholdsFor(std::string_view host, std::string_view service) const {
    return &thresholds_.For({host, service});
  }
  // Resolves the key's alert and forgets its terminations if it was quiet for a window before
  // `now`; true if it was.
  bool EndIfQuiet(std::string_view key, ServiceState& state, absl::Time now, AlertOutput& out);
  void Emit(std::string_view key, const ServiceState& state, absl::Time now,
            AlertOutput& out) const;

  ServiceCrashLoopConfig config_;
  absl::Duration renotify_;
  absl::Duration lateness_;
  std::map<std::string, std::string> labels_;
  PatternOverrides<Thresholds, 2> thresholds_;  // by (host, service)
  KeyedState<ServiceState> pools_;              // Key()
  CompositeKey key_;
};

}  // namespace faultline

// sigma: Sigma detection rules (rules.h) evaluated on every event, per host, in event time.
// A rule matching on a host opens an incident for (rule, host): fired once, updated as matches
// add up (at most every re-notify interval), resolved when the host's own time has gone `quiet`
// past the last match. A late event (beyond the allowed lateness) that matches still counts:
// nothing a rule matches is dropped for arriving late.
//
// Correlation rules (correlation.h) count the matches of the rules they refer to per host and
// group (`group-by` values, aliases applied) in windows of event time; when one holds the group's
// incident fires (then updates and resolves as above, resolved a `timespan` after its last
// match), and correlations that refer to it in turn are fed the event that completed it. A
// correlation groups within one host: a host's events are on one partition, a group across hosts
// is not seen whole by any one worker.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/settings.h"
#include "detect/config.h"
#include "detect/detector.h"
#include "detect/lifecycle.h"
#include "detect/sigma/correlation.h"
#include "detect/sigma/matcher.h"
#include "detect/sigma/rules.h"
#include "detect/window/composite_key.h"
#include "detect/window/keyed_state.h"

namespace faultline {

struct SigmaPlaceholder {
  std::string name;
  std::vector<std::string> values;

  static const settings::Schema<SigmaPlaceholder>& Schema();
};

struct SigmaConfig {
  bool enabled = true;
  std::vector<std::string> rules;  // files or directories; none: the detector is off
  absl::Duration quiet = absl::Minutes(15);
  std::vector<SigmaPlaceholder> placeholders;

  static const settings::Schema<SigmaConfig>& Schema();
};

class SigmaDetector final : public Detector {
 public:
  static absl::StatusOr<std::unique_ptr<Detector>> Create(const SigmaConfig& config,
                                                          const DetectorContext& context);
  // The rule set a configuration names (what `faultline sigma check` reports on, too).
  static absl::StatusOr<sigma::RuleSet> Load(const SigmaConfig& config);

  std::string_view name() const override { return "sigma"; }
  std::vector<EventKey> Subscriptions() const override;
  // Matches it: the engine spares an event no rule matches its per-host work.
  bool Wants(const Event& event) override;
  void OnEvent(const Event& event, AlertOutput& out) override { Check(event, out); }
  bool OnLateEvent(const Event& event, AlertOutput& out) override { return Check(event, out); }
  void OnWatermark(const Watermarks& watermarks, AlertOutput& out) override;
  void Forget(const absl::flat_hash_set<std::string>& hosts) override;
  Stats stats() const override {
    return {incidents_.size() + groups_.size(), incidents_.evictions() + groups_.evictions()};
  }
  absl::Duration horizon() const override { return horizon_; }
  bool needs_all_fields() const override { return true; }

  const sigma::RuleSet& rules() const { return *rules_; }

 private:
  struct Hit {
    absl::Time time;
    uint32_t event_id;
    uint64_t record_id;
    std::string provider;
    std::string detail;
  };
  struct Incident {
    uint32_t rule = 0;
    uint32_t count = 0;
    absl::Time start = absl::InfinitePast();      // the fired match's time: the fingerprint's
    absl::Time first = absl::InfiniteFuture();    // the earliest match (one may arrive late)
    absl::Time last_seen = absl::InfinitePast();  // the latest match (KeyedState evicts by it)
    HostRef host_clock;
    AlertState alert;
    std::vector<Hit> recent;  // the last few matches, for the alert's evidence
    bool open() const { return alert.firing(); }
  };

  // One correlation's window for one host and group.
  struct Group {
    explicit Group(absl::Duration width) : window(width, kMaxGroupEntries) {}
    uint32_t correlation = 0;
    sigma::CorrelationWindow window;
    absl::Time start = absl::InfinitePast();
    absl::Time last_seen = absl::InfinitePast();  // the latest match (KeyedState evicts by it)
    HostRef host_clock;
    double metric = 0;
    std::string group;  // "User=alice, ..." for the alert
    AlertState alert;
    std::vector<Hit> recent;
    bool open() const { return alert.firing(); }
  };
  static constexpr size_t kMaxGroupEntries = 4096;

  // What Wants matched, for the OnEvent or OnLateEvent of that event (the engine calls one next,
  // or none): null when it did not ask.
  const Event* wanted_ = nullptr;
  const std::vector<uint32_t>* wanted_matches_ = nullptr;

  SigmaDetector(std::unique_ptr<sigma::RuleSet> rules, const SigmaConfig& config,
                const DetectorContext& context);
  // Adds the event, which matched reference `which` of correlation `c`, to its group's window.
  void Feed(uint32_t c, uint32_t which, const Event& event, AlertOutput& out, int depth);
  void EmitGroup(std::string_view host, const Group& group, AlertOutput& out) const;
  // The event's value of a field a correlation names (EventID, Channel, Provider_Name, Computer,
  // or an event data item); false if it has none.
  bool FieldText(const Event& event, std::string_view name, std::string_view* out);
  // Matches the event against its rules; true if any matched.
  bool Check(const Event& event, AlertOutput& out);
  void Emit(std::string_view host, const Incident& incident, AlertOutput& out) const;
  std::string Detail(const sigma::Rule& rule, const Event& event) const;

  std::unique_ptr<sigma::RuleSet> rules_;
  sigma::Matcher matcher_;
  absl::Duration quiet_;
  absl::Duration renotify_;
  std::map<std::string, std::string> labels_;
  KeyedState<Incident> incidents_;  // "host \x1f rule index"
  CompositeKey key_;
  std::string index_text_;
  absl::Duration lateness_;
  absl::Duration horizon_;
  // By rule, and by correlation: the (correlation, reference) pairs that refer to it.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> rule_refs_, correlation_refs_;
  KeyedState<Group> groups_;  // "host \x1f correlation \x1f value \x1e value ..."
  CompositeKey group_key_;
  std::string group_text_;
  sigma::CorrelationScratch scratch_;
  char number_[16] = {};
};

}  // namespace faultline

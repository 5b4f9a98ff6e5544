#include "detect/sigma/sigma_detector.h"

#include <algorithm>
#include <charconv>

#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/log.h"
#include "core/strings.h"
#include "detect/alert_builder.h"

namespace faultline {
namespace {

constexpr size_t kEvidence = 5;       // matches kept per incident for the alert
constexpr size_t kDetailFields = 4;   // fields shown per match
constexpr size_t kDetailValue = 200;  // bytes of each value shown

// A correlation's measure as an alert count: sums and averages may be fractional, negative or
// huge; the count is what grows between updates, clamped (the summary has the measure itself).
uint32_t CountOf(double measure) {
  if (!(measure > 0)) return 0;  // and NaN
  if (measure >= 4294967295.0) return UINT32_MAX;
  return static_cast<uint32_t>(measure);
}

std::string_view Severity(std::string_view level) {
  if (level == "critical" || level == "high") return "critical";
  if (level == "medium") return "warning";
  return "info";
}

}  // namespace

const settings::Schema<SigmaPlaceholder>& SigmaPlaceholder::Schema() {
  static const auto* schema =
      &(*new settings::Schema<SigmaPlaceholder>("A placeholder for the |expand modifier."))
           .String("name", &SigmaPlaceholder::name,
                   "Its name, as rules write it between percent signs (Admins_Workstations).",
                   /*required=*/true)
           .StringList("values", &SigmaPlaceholder::values, "What it stands for (any of them).",
                       /*min_items=*/1);
  return *schema;
}

const settings::Schema<SigmaConfig>& SigmaConfig::Schema() {
  static const auto* schema =
      &(*new settings::Schema<SigmaConfig>(
            "Sigma detection rules (SigmaHQ's format), evaluated on every event per host. "
            "`faultline sigma check PATH` lists what loads and why the rest does not."))
           .Bool("enabled", &SigmaConfig::enabled, "Turns the detector off.")
           .StringList("rules", &SigmaConfig::rules,
                       "Rule files or directories (read recursively: *.yml, *.yaml). None: off.")
           .Duration("quiet", &SigmaConfig::quiet, settings::Bound::kPositive,
                     "A rule's incident on a host resolves after this long of the host's event "
                     "time without a match.")
           .List("placeholders", &SigmaConfig::placeholders, SigmaPlaceholder::Schema(),
                 "Values of the placeholders rules with |expand name.");
  return *schema;
}

absl::StatusOr<sigma::RuleSet> SigmaDetector::Load(const SigmaConfig& config) {
  sigma::LoadOptions options;
  for (const SigmaPlaceholder& p : config.placeholders) options.placeholders[p.name] = p.values;
  return sigma::LoadRules(config.rules, options);
}

absl::StatusOr<std::unique_ptr<Detector>> SigmaDetector::Create(const SigmaConfig& config,
                                                                const DetectorContext& context) {
  if (!config.enabled || config.rules.empty()) return nullptr;
  absl::StatusOr<sigma::RuleSet> rules = Load(config);
  if (!rules.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("rules: ", rules.status().message()));
  }
  LogInfo(absl::StrCat("sigma: ", rules->rules.size(), " rule(s) loaded from ", rules->files,
                       " file(s), ", rules->skipped.size(),
                       " skipped (faultline sigma check lists why)"));
  return std::unique_ptr<Detector>(
      new SigmaDetector(std::make_unique<sigma::RuleSet>(*std::move(rules)), config, context));
}

SigmaDetector::SigmaDetector(std::unique_ptr<sigma::RuleSet> rules, const SigmaConfig& config,
                             const DetectorContext& context)
    : rules_(std::move(rules)),
      matcher_(*rules_),
      quiet_(config.quiet),
      renotify_(context.renotify_interval),
      labels_(context.labels),
      incidents_(static_cast<size_t>(context.max_keys)),
      lateness_(context.allowed_lateness),
      horizon_(config.quiet),
      rule_refs_(rules_->rules.size()),
      correlation_refs_(rules_->correlations.size()),
      groups_(static_cast<size_t>(context.max_keys)) {
  for (uint32_t c = 0; c < rules_->correlations.size(); ++c) {
    const sigma::Correlation& corr = rules_->correlations[c];
    horizon_ = std::max(horizon_, corr.timespan);
    for (uint32_t w = 0; w < corr.refs.size(); ++w) {
      (corr.refs[w].correlation ? correlation_refs_ : rule_refs_)[corr.refs[w].index].push_back(
          {c, w});
    }
  }
}

std::vector<EventKey> SigmaDetector::Subscriptions() const {
  if (matcher_.RoutesEveryId()) return {EventKey::Every()};
  std::vector<EventKey> keys;
  for (uint32_t id : matcher_.RoutedIds()) keys.push_back(EventKey::AnyProvider(id));
  return keys;
}

bool SigmaDetector::Wants(const Event& event) {
  wanted_matches_ = &matcher_.Match(event);
  wanted_ = wanted_matches_->empty() ? nullptr : &event;
  return wanted_ != nullptr;
}

bool SigmaDetector::Check(const Event& event, AlertOutput& out) {
  // The engine asked Wants for this event just before (the match is the same: it reads what
  // the event says, not its time); a caller that did not is matched now.
  const std::vector<uint32_t>& matched =
      wanted_ == &event ? *wanted_matches_ : matcher_.Match(event);
  wanted_ = nullptr;
  for (uint32_t index : matched) {
    for (const auto& [c, which] : rule_refs_[index]) Feed(c, which, event, out, 0);
    if (!rules_->rules[index].alerts) continue;  // only its correlations speak for it
    index_text_.clear();
    absl::StrAppend(&index_text_, index);
    Incident* incident = incidents_.FindOrCreate(key_.Of(event.host, index_text_)).first;
    incident->rule = index;
    incident->host_clock = HostRef{event.host_clock};
    ++incident->count;
    incident->first = std::min(incident->first, event.time);
    incident->last_seen = std::max(incident->last_seen, event.time);
    const AlertState::Action action =
        incident->alert.Observe(incident->count, event.time, renotify_);
    if (action == AlertState::Action::kNone && incident->recent.size() >= kEvidence) continue;
    // Kept only when it will be shown: the first few, and the one an update reports.
    if (incident->recent.size() >= kEvidence) incident->recent.erase(incident->recent.begin());
    if (action == AlertState::Action::kFire) incident->start = event.time;
    incident->recent.push_back({event.time, event.event_id, event.record_id, event.provider_name,
                                Detail(rules_->rules[index], event)});
    if (action != AlertState::Action::kNone) Emit(event.host, *incident, out);
  }
  return !matched.empty();
}

std::string SigmaDetector::Detail(const sigma::Rule& rule, const Event& event) const {
  // The fields the rule tests, as the event has them.
  std::vector<std::string_view> shown;
  std::string out;
  for (const sigma::Selection& s : rule.selections) {
    for (const auto& alt : s.alternatives) {
      for (const sigma::FieldItem& item : alt) {
        if (item.field < 0 || shown.size() >= kDetailFields) continue;
        const std::string& name = rules_->fields.name(static_cast<uint32_t>(item.field));
        if (name == "EventID" || name == "Channel" ||
            std::find(shown.begin(), shown.end(), name) != shown.end()) {
          continue;
        }
        std::string_view value;
        if (!event.data.Find(name, &value)) continue;
        shown.push_back(name);
        absl::StrAppend(&out, out.empty() ? "" : "; ", name, "=",
                        ToAbsl(value.substr(0, kDetailValue)),
                        value.size() > kDetailValue ? "..." : "");
      }
    }
  }
  return out;
}

void SigmaDetector::Emit(std::string_view host, const Incident& incident, AlertOutput& out) const {
  const sigma::Rule& rule = rules_->rules[incident.rule];
  Alert alert =
      NewAlert(absl::StrCat("sigma/", rule.id.empty() ? rule.title : rule.id), Severity(rule.level),
               incident.alert, CompositeKey::Join({host, absl::StrCat(rule.id, rule.title)}),
               incident.start, quiet_, labels_);
  alert.set_host(std::string(host));
  (*alert.mutable_labels())["sigma_title"] = rule.title;
  if (!rule.name.empty()) (*alert.mutable_labels())["sigma_name"] = rule.name;
  if (!rule.level.empty()) (*alert.mutable_labels())["sigma_level"] = rule.level;
  if (!rule.tags.empty()) (*alert.mutable_labels())["sigma_tags"] = absl::StrJoin(rule.tags, ",");
  for (const Hit& h : incident.recent) {
    Evidence* e = AddEvidence(&alert, "match", Provider::kOther, h.event_id, h.time, 0, h.record_id,
                              std::nullopt, std::nullopt, h.detail);
    e->set_provider(h.provider);
  }
  alert.set_count(incident.count);
  *alert.mutable_first_event_time() = ToProtoTime(incident.first);
  *alert.mutable_last_event_time() = ToProtoTime(incident.last_seen);
  if (incident.alert.firing()) {
    alert.set_summary(absl::StrFormat("Sigma rule '%s' (%s) matched %d event(s) on %s.", rule.title,
                                      rule.level.empty() ? "no level" : rule.level, incident.count,
                                      host));
  } else {
    alert.set_summary(absl::StrFormat("Sigma rule '%s' on %s: no match for %s.", rule.title, host,
                                      absl::FormatDuration(quiet_)));
  }
  out.Emit(std::move(alert));
}

bool SigmaDetector::FieldText(const Event& event, std::string_view name, std::string_view* out) {
  if (name == "EventID") {
    const auto [end, ec] = std::to_chars(number_, number_ + sizeof(number_), event.event_id);
    *out = std::string_view(number_, static_cast<size_t>(end - number_));
    return true;
  }
  if (name == "Computer") {
    *out = event.host;
  } else if (name == "Channel") {
    *out = event.channel;
  } else if (name == "Provider_Name") {
    *out = event.provider_name;
  } else {
    return event.data.Find(name, out);
  }
  return true;
}

void SigmaDetector::Feed(uint32_t c, uint32_t which, const Event& event, AlertOutput& out,
                         int depth) {
  const sigma::Correlation& corr = rules_->correlations[c];
  sigma::CorrelationEntry entry{.which = which};
  if (!corr.value_field.empty()) {
    // An event without the value is not counted (as a query grouping on it would not).
    std::string_view text;
    if (!FieldText(event, corr.value_field[which], &text)) return;
    if (corr.type == sigma::CorrelationType::kValueCount) {
      entry.value = absl::HashOf(ToAbsl(text));
    } else if (!absl::SimpleAtod(ToAbsl(text), &entry.number)) {
      return;
    }
  }
  group_text_.clear();
  group_key_.Of(event.host, ToStd(absl::AlphaNum(c).Piece()));
  group_key_.Then("");  // the group-by values, one item each
  for (size_t i = 0; i < corr.group_fields[which].size(); ++i) {
    std::string_view value;
    FieldText(event, corr.group_fields[which][i], &value);  // absent: grouped as empty
    group_key_.AddItem(value);
    absl::StrAppend(&group_text_, i == 0 ? "" : ", ", corr.group_by[i], "=", ToAbsl(value));
  }
  Group* g = groups_.FindOrCreate(group_key_.last(), corr.timespan + lateness_).first;
  g->correlation = c;
  g->host_clock = HostRef{event.host_clock};
  if (g->window.Add(event.time, entry) == nullptr) return;  // older than any window it could be in
  g->last_seen = std::max(g->last_seen, event.time);
  double metric = 0;
  if (!sigma::WindowHolds(corr, g->window, event.time, &metric, &scratch_)) return;
  g->metric = metric;
  if (corr.alerts) {
    const AlertState::Action action = g->alert.Observe(CountOf(metric), event.time, renotify_);
    if (action == AlertState::Action::kFire) {
      g->start = event.time;
      g->group = group_text_;
    }
    if (action != AlertState::Action::kNone || g->recent.size() < kEvidence) {
      if (g->recent.size() >= kEvidence) g->recent.erase(g->recent.begin());
      g->recent.push_back({event.time, event.event_id, event.record_id, event.provider_name,
                           absl::StrCat("completed the window: ", group_text_)});
    }
    if (action != AlertState::Action::kNone) EmitGroup(event.host, *g, out);
  }
  // Chained correlations see the event that made this one hold.
  if (depth < 8) {
    for (const auto& [outer, w] : correlation_refs_[c]) Feed(outer, w, event, out, depth + 1);
  }
}

void SigmaDetector::EmitGroup(std::string_view host, const Group& g, AlertOutput& out) const {
  const sigma::Correlation& corr = rules_->correlations[g.correlation];
  static constexpr std::string_view kTypes[] = {"event_count",      "value_count", "temporal",
                                                "temporal_ordered", "value_sum",   "value_avg",
                                                "value_percentile"};
  const std::string_view type = kTypes[static_cast<size_t>(corr.type)];
  Alert alert =
      NewAlert(absl::StrCat("sigma/", corr.id.empty() ? corr.title : corr.id), Severity(corr.level),
               g.alert, CompositeKey::Join({host, absl::StrCat(corr.id, corr.title), g.group}),
               g.start, corr.timespan, labels_);
  alert.set_host(std::string(host));
  (*alert.mutable_labels())["sigma_title"] = corr.title;
  if (!corr.name.empty()) (*alert.mutable_labels())["sigma_name"] = corr.name;
  (*alert.mutable_labels())["sigma_correlation"] = std::string(type);
  if (!g.group.empty()) (*alert.mutable_labels())["sigma_group"] = g.group;
  if (!corr.level.empty()) (*alert.mutable_labels())["sigma_level"] = corr.level;
  for (const Hit& h : g.recent) {
    Evidence* e = AddEvidence(&alert, "match", Provider::kOther, h.event_id, h.time, 0, h.record_id,
                              std::nullopt, std::nullopt, h.detail);
    e->set_provider(h.provider);
  }
  const auto& entries = g.window.entries();
  alert.set_count(CountOf(g.metric));
  *alert.mutable_first_event_time() = ToProtoTime(entries.empty() ? g.start : entries.front().time);
  *alert.mutable_last_event_time() = ToProtoTime(g.last_seen);
  const std::string group = g.group.empty() ? "" : absl::StrCat(" (", g.group, ")");
  if (g.alert.firing()) {
    alert.set_summary(absl::StrFormat("Sigma correlation '%s' (%s within %s) holds on %s%s: %g.",
                                      corr.title, type, absl::FormatDuration(corr.timespan), host,
                                      group, g.metric));
  } else {
    alert.set_summary(absl::StrFormat("Sigma correlation '%s' on %s%s: no match for %s.",
                                      corr.title, host, group,
                                      absl::FormatDuration(corr.timespan)));
  }
  out.Emit(std::move(alert));
}

void SigmaDetector::OnWatermark(const Watermarks& watermarks, AlertOutput& out) {
  groups_.EraseIf([&](const std::string& key, Group& g) {
    const std::string_view host = CompositeKey::First(key);
    const absl::Duration span = rules_->correlations[g.correlation].timespan;
    if (watermarks.Host(g.host_clock, host) < g.last_seen + span + lateness_) return false;
    if (g.alert.Resolve()) EmitGroup(host, g, out);
    return true;
  });
  incidents_.EraseIf([&](const std::string& key, Incident& incident) {
    const std::string_view host = CompositeKey::First(key);
    if (watermarks.Host(incident.host_clock, host) < incident.last_seen + quiet_) return false;
    if (incident.alert.Resolve()) Emit(host, incident, out);
    return true;
  });
}

void SigmaDetector::Forget(const absl::flat_hash_set<std::string>& hosts) {
  incidents_.EraseIf([&](const std::string& key, Incident&) {
    return hosts.contains(ToAbsl(CompositeKey::First(key)));
  });
  groups_.EraseIf([&](const std::string& key, Group&) {
    return hosts.contains(ToAbsl(CompositeKey::First(key)));
  });
}

}  // namespace faultline

// Sigma detection rules (sigma-specification v2: rules, filters), loaded from YAML and compiled
// once into what matching needs: field names interned to numbers, values into Patterns
// (pattern.h), conditions into trees (condition.h), and each rule placed by the Windows channel
// its logsource names and the event ids its logsource or condition requires (logsource.h), so an
// event only meets the rules that can match it (matcher.h).
//
// A rule that uses something faultline cannot evaluate is reported with the reason and skipped;
// a file that is not YAML is reported, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "detect/sigma/condition.h"
#include "detect/sigma/pattern.h"

namespace faultline::sigma {

// The field names a rule set reads, each given a number once.
class FieldIndex {
 public:
  uint32_t Intern(std::string_view name);
  // The number of `name`, or -1 if no rule reads it.
  int64_t Find(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::string& name(uint32_t id) const { return names_[id]; }

 private:
  absl::flat_hash_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
};

// `Field|modifiers: values`, or a keyword search (field < 0: any value of the event).
struct FieldItem {
  int64_t field = -1;
  std::vector<Pattern> values;  // any of them, or every one with |all
  bool all = false;
};

// A search identifier: any alternative (a list of maps) whose items all hold.
struct Selection {
  std::vector<std::vector<FieldItem>> alternatives;
};

struct Logsource {
  std::string product, category, service;
};

struct Rule {
  std::string id, title, name, level, status, description, file;
  int line = 0;  // of the document in `file`, 1-based
  std::vector<std::string> tags;
  Logsource logsource;
  std::vector<std::string> channels;  // lowercase; empty: any channel
  std::vector<uint32_t> event_ids;    // required by the logsource or condition; empty: any id
  std::vector<std::string> selection_names;
  std::vector<Selection> selections;
  Condition condition;
  std::vector<std::string> filters;  // titles of the filters applied to it
  // Alerts on its own: false when only correlations with `generate: false` refer to it.
  bool alerts = true;
};

// A value compared by a correlation's condition: each bound given must hold.
struct Threshold {
  std::optional<double> gt, gte, lt, lte, eq;
  bool Holds(double v) const {
    return (!gt || v > *gt) && (!gte || v >= *gte) && (!lt || v < *lt) && (!lte || v <= *lte) &&
           (!eq || v == *eq);
  }
};

enum class CorrelationType : uint8_t {
  kEventCount,
  kValueCount,
  kTemporal,
  kTemporalOrdered,
  kValueSum,
  kValueAvg,
  kValuePercentile,
};

// A Sigma correlation rule (sigma-specification, correlation rules; the value_* types of v2.1),
// its references resolved: evaluated per host and group in event time (sigma_detector.h).
struct Correlation {
  std::string id, title, name, level, file;
  int line = 0;
  std::vector<std::string> tags;
  CorrelationType type = CorrelationType::kEventCount;
  struct Reference {
    bool correlation = false;  // another correlation (chained), else a rule
    uint32_t index = 0;        // into RuleSet::rules or RuleSet::correlations
  };
  std::vector<Reference> refs;
  std::vector<std::string> group_by;  // as written (field names or aliases)
  // group_fields[ref][i]: the field read for group_by[i] in events of refs[ref] (aliases applied).
  std::vector<std::vector<std::string>> group_fields;
  std::vector<std::string> value_field;  // value_count and value_*: the field, per ref
  double percentile = 50;                // value_percentile
  absl::Duration timespan;
  Threshold condition;
  bool has_condition = false;  // temporal: without one, every referenced rule must match
  bool generate = false;
  bool alerts = true;  // false when only correlations with `generate: false` refer to it
};

// What was not loaded, and why.
struct Skipped {
  std::string file;
  int line = 0;
  std::string title;  // empty when the file itself could not be read
  std::string reason;
};

struct LoadOptions {
  // Values of the placeholders `|expand` refers to (`%Admins_Workstations%`), by name.
  std::map<std::string, std::vector<std::string>> placeholders;
};

struct PendingFilter;

struct RuleSet {
  FieldIndex fields;
  std::vector<Rule> rules;
  std::vector<Correlation> correlations;  // in an order where a referenced one comes first
  std::vector<Skipped> skipped;
  size_t files = 0;
  size_t filters = 0;  // filter documents read (applied to the rules they name)
  // Filters and correlations read but not yet applied or resolved (FinishLoading).
  std::vector<std::shared_ptr<PendingFilter>> pending_filters;
  std::vector<std::shared_ptr<PendingFilter>> pending_correlations;
};

// Reads every .yml/.yaml file under each path (a file or a directory, recursively, in name
// order); multi-document files too. Only a path that does not exist is an error.
absl::StatusOr<RuleSet> LoadRules(const std::vector<std::string>& paths,
                                  const LoadOptions& options = {});
// The same for text already read (tests): `name` stands for the file.
void LoadRuleText(std::string_view name, std::string_view text, const LoadOptions& options,
                  RuleSet* out);
// Applies the filter documents LoadRuleText kept aside and resolves the correlations' references
// (rules may come in any file and order); LoadRules calls it.
void FinishLoading(const LoadOptions& options, RuleSet* out);

}  // namespace faultline::sigma

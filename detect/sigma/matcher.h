// Runs a compiled RuleSet over events. Rules are indexed by channel (case-insensitive) and event
// id once, so an event meets only the rules of its channel and id (and those that name no id);
// most events meet none and cost one lookup. For an event that meets rules, its fields are put
// in a table by field number once (a value's lowercase made only when a rule reads it), and each
// rule's condition is evaluated lazily over its search identifiers. Nothing is allocated per
// event once the scratch buffers have grown. One Matcher per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/event.h"
#include "detect/sigma/rules.h"

namespace faultline::sigma {

class Matcher {
 public:
  explicit Matcher(const RuleSet& rules);
  // Not copied: its prefilters and channel memo point into itself.
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // The indices (into RuleSet::rules) of the rules `event` matches, in rule order; valid until
  // the next call.
  const std::vector<uint32_t>& Match(const Event& event);

  // The event ids some rule needs, and whether some rule takes any id of its channels: what to
  // subscribe to (Detector::Subscriptions).
  std::vector<uint32_t> RoutedIds() const;
  bool RoutesEveryId() const;

  // Rule evaluations, and rules the prefilter spared.
  uint64_t evaluations() const { return evaluations_; }
  uint64_t spared() const { return spared_; }

 private:
  // Literal items one of which every match of a rule needs (its gates: one item of a selection
  // the condition requires, or one per alternative of `1 of ...`; a field's or a keyword's),
  // indexed by field (keywords: every value) and by the first, last or rarest three bytes of the
  // literal: one pass over an event's values tells which gates hold, and a rule none of whose
  // gates does is not evaluated. Built per route list, so an event probes only for the rules of
  // its channel and id.
  struct Prefilter {
    struct Probe {
      uint32_t gate;
      std::string_view needle;  // what the value holds from `at` (a literal, or a glob's run)
      uint32_t offset = 0;      // gram probes: where in the needle its key's three bytes are
    };
    struct Field {
      int64_t field = -1;  // -1: a keyword's, every value of the event
      absl::flat_hash_map<std::string, std::vector<uint32_t>> exact;
      absl::flat_hash_map<uint32_t, std::vector<Probe>> prefix, suffix, gram;
      // A bit per hash of the gram keys: most positions of a value are passed over on one test
      // instead of a map lookup.
      std::vector<uint64_t> gram_bits;
      int gram_shift = 32;
    };
    std::vector<Field> fields;
    // Rule i of the list (in list order) may match only if one of its gates holds:
    // gate_lists[rule_gates[i] .. rule_gates[i + 1]); none listed: always evaluated.
    std::vector<uint32_t> rule_gates;
    std::vector<uint32_t> gate_lists;
    std::vector<uint32_t> stamp;        // per gate: held for the event of this generation
    std::deque<std::string> lowercase;  // the needles of |cased literals, lowercased

    bool MayMatch(size_t rule, uint32_t generation) const {
      const uint32_t begin = rule_gates[rule], end = rule_gates[rule + 1];
      if (begin == end) return true;
      for (uint32_t i = begin; i < end; ++i) {
        if (stamp[gate_lists[i]] == generation) return true;
      }
      return false;
    }
  };
  struct RouteList {
    std::vector<uint32_t> rules;
    Prefilter prefilter;
  };
  struct Routes {
    absl::flat_hash_map<uint32_t, RouteList> by_id;
    RouteList any_id;
  };
  void BuildPrefilter(RouteList* list) const;
  // Marks the gates of `p` the event's values hold.
  void Probe(Prefilter& p);
  void ProbeValue(Prefilter& p, const Prefilter::Field& f, std::string_view v) const;
  Routes* ChannelRoutes(std::string_view channel);
  void Prepare(const Event& event);
  // The field's value, or null if the event lacks it.
  const FieldValue* Value(int64_t field);
  // The field number of a data item's name without its spaces ("Source Name": SourceName), or -1.
  int64_t FindWithoutSpaces(std::string_view name);
  bool SelectionMatches(const Rule& rule, int selection);
  bool ItemMatches(const FieldItem& item);
  bool KeywordMatches(const Pattern& p);
  bool UnnamedDataMatches(const FieldItem& item);
  // Every data value of the event with its lowercase, made once per event when first asked.
  const std::vector<FieldValue>& AllValues();

  const RuleSet& rules_;
  absl::flat_hash_map<std::string, Routes> channels_;  // lowercase channel
  Routes any_channel_;
  // Each channel spelling seen, to its routes (null: no rule reads that channel); bounded.
  absl::flat_hash_map<std::string, Routes*> seen_channels_;
  std::string lower_channel_;
  std::string spaceless_;

  // Per event: values by field number, valid where stamp_ == generation_.
  std::vector<FieldValue> values_;
  std::vector<uint32_t> stamp_;
  std::vector<uint32_t> lower_stamp_;
  uint32_t generation_ = 0;
  std::string lower_;                       // lowercased values, appended as read
  std::vector<FieldValue> keyword_values_;  // every data value, for keyword searches
  uint32_t keywords_stamp_ = 0;             // keyword_values_ is this event's
  char event_id_text_[16] = {};
  int64_t event_id_field_ = -1, channel_field_ = -1, provider_field_ = -1, computer_field_ = -1;
  int64_t data_field_ = -1;       // "Data": the unnamed items (params_) when none is named so
  std::vector<uint32_t> params_;  // the event's unnamed items (data indices)
  const Event* event_ = nullptr;
  std::vector<int8_t> memo_;  // per selection of the rule being evaluated: -1 unknown, 0, 1
  std::vector<uint32_t> matched_;
  uint64_t evaluations_ = 0;
  uint64_t spared_ = 0;
};

}  // namespace faultline::sigma

#include "detect/sigma/matcher.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/strings.h"

namespace faultline::sigma {
namespace {

constexpr size_t kMaxChannelSpellings = 4096;

void AddRoute(std::vector<uint32_t>* list, uint32_t rule) {
  if (list->empty() || list->back() != rule) list->push_back(rule);
}

// "param1", "param2", ...: how the parsers name event data items that have no name.
bool IsUnnamed(std::string_view name) {
  if (name.size() <= 5 || name.substr(0, 5) != "param") return false;
  for (char c : name.substr(5)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint32_t Key3(std::string_view s) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[0])) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[2])) << 16;
}

// The longest run of a glob without a wildcard: every match holds it somewhere.
std::string_view LongestRun(const Pattern& p) {
  std::string_view best;
  size_t start = 0;
  for (size_t i = 0; i <= p.text.size(); ++i) {
    if (i == p.text.size() || p.wild[i] != 0) {
      if (i - start > best.size()) best = std::string_view(p.text).substr(start, i - start);
      start = i + 1;
    }
  }
  return best;
}

// What a value must hold for `p` to match, at least 3 bytes: the literal (a glob's longest run),
// or empty when `p` cannot gate (a regex, a number, too short). A |cased literal gates by its
// lowercase: a value that holds it holds that in its lowercase.
std::string_view Needle(const Pattern& p) {
  std::string_view needle;
  switch (p.kind) {
    case MatchKind::kEquals:
    case MatchKind::kStartsWith:
    case MatchKind::kEndsWith:
    case MatchKind::kContains:
      needle = p.text;
      break;
    case MatchKind::kGlob:
      needle = LongestRun(p);
      break;
    default:
      return {};
  }
  return needle.size() >= 3 ? needle : std::string_view();
}

// The patterns of an item one of which a match needs: any of its values, or with |all the one
// with the longest needle (all must hold); empty when the item cannot gate.
std::vector<const Pattern*> Needed(const FieldItem& item) {
  std::vector<const Pattern*> needed;
  for (const Pattern& p : item.values) {
    const size_t size = Needle(p).size();
    if (!item.all && size == 0) return {};
    if (size == 0) continue;
    if (!item.all || needed.empty()) {
      needed.push_back(&p);
    } else if (size > Needle(*needed[0]).size()) {
      needed[0] = &p;
    }
  }
  return needed;
}

bool Indexable(const FieldItem& item) { return !Needed(item).empty(); }

// Lower is better: contains probes every position of a value, keywords every value.
int Cost(const FieldItem& item) {
  int cost = 0;
  for (const Pattern* p : Needed(item)) {
    cost += p->kind == MatchKind::kContains || p->kind == MatchKind::kGlob ? 4 : 1;
  }
  return item.field < 0 ? 4 * cost : cost;
}

// How common a byte is in event values (paths, command lines, names): the gram probe is keyed on
// a needle's rarest three bytes, so few positions of a value reach the map.
int Commonness(unsigned char c) {
  constexpr std::string_view kCommonLetters = "etaoinsrhldcu";
  if (c >= 'a' && c <= 'z') {
    return kCommonLetters.find(static_cast<char>(c)) != kCommonLetters.npos ? 8 : 5;
  }
  if (c >= '0' && c <= '9') return 6;
  if (c == ' ' || c == '\\' || c == '.' || c == '-' || c == '/' || c == '_') return 7;
  return 2;
}

size_t RarestGram(std::string_view needle) {
  size_t best = 0;
  int best_score = 1 << 30;
  for (size_t i = 0; i + 3 <= needle.size(); ++i) {
    const int score = Commonness(static_cast<unsigned char>(needle[i])) +
                      Commonness(static_cast<unsigned char>(needle[i + 1])) +
                      Commonness(static_cast<unsigned char>(needle[i + 2]));
    if (score < best_score) {
      best = i;
      best_score = score;
    }
  }
  return best;
}

uint32_t GramHash(uint32_t key, int shift) { return (key * 2654435761u) >> shift; }

int Cost(const std::vector<const FieldItem*>& any) {
  int cost = 0;
  for (const FieldItem* item : any) cost += Cost(*item);
  return cost;
}

// Items of which every match of the subtree needs one to hold (a disjunction), or nullopt when
// there are none to tell (a `not`, a regex, an alternative without a usable literal). `usable`
// says which items may gate.
template <typename Usable>
std::optional<std::vector<const FieldItem*>> Necessary(const Rule& rule, int node,
                                                       const Usable& usable) {
  const ConditionNode& n = rule.condition.nodes[static_cast<size_t>(node)];
  switch (n.kind) {
    case ConditionNode::Kind::kSelection: {
      // One item of each alternative (the cheapest usable): a match holds one alternative whole.
      std::vector<const FieldItem*> any;
      for (const auto& alternative :
           rule.selections[static_cast<size_t>(n.selection)].alternatives) {
        const FieldItem* best = nullptr;
        for (const FieldItem& item : alternative) {
          if (usable(item) && (best == nullptr || Cost(item) < Cost(*best))) best = &item;
        }
        if (best == nullptr) return std::nullopt;
        any.push_back(best);
      }
      return any;
    }
    case ConditionNode::Kind::kAnd: {
      // Any one child's disjunction will do: the cheapest.
      std::optional<std::vector<const FieldItem*>> best;
      for (int c : n.children) {
        auto any = Necessary(rule, c, usable);
        if (any && (!best || Cost(*any) < Cost(*best))) best = std::move(any);
      }
      return best;
    }
    case ConditionNode::Kind::kOr:
    case ConditionNode::Kind::kAtLeast: {
      // A match holds at least one child: the union of theirs, if each has one.
      std::vector<const FieldItem*> any;
      for (int c : n.children) {
        auto part = Necessary(rule, c, usable);
        if (!part) return std::nullopt;
        any.insert(any.end(), part->begin(), part->end());
      }
      return any;
    }
    case ConditionNode::Kind::kNot:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

Matcher::Matcher(const RuleSet& rules) : rules_(rules) {
  for (uint32_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& rule = rules.rules[i];
    // One channel at a time: a pointer into channels_ would not survive the next insertion.
    auto route = [&](Routes& r) {
      if (rule.event_ids.empty()) {
        AddRoute(&r.any_id.rules, i);
      } else {
        for (uint32_t id : rule.event_ids) AddRoute(&r.by_id[id].rules, i);
      }
    };
    if (rule.channels.empty()) route(any_channel_);
    for (const std::string& c : rule.channels) route(channels_[c]);
  }
  event_id_field_ = rules.fields.Find("EventID");
  channel_field_ = rules.fields.Find("Channel");
  data_field_ = rules.fields.Find("Data");
  auto build = [&](Routes& r) {
    BuildPrefilter(&r.any_id);
    for (auto& [id, list] : r.by_id) BuildPrefilter(&list);
  };
  build(any_channel_);
  for (auto& [name, r] : channels_) build(r);
  provider_field_ = rules.fields.Find("Provider_Name");
  computer_field_ = rules.fields.Find("Computer");
  values_.resize(rules.fields.size());
  stamp_.resize(rules.fields.size());
  lower_stamp_.resize(rules.fields.size());
  size_t most = 0;
  for (const Rule& rule : rules.rules) most = std::max(most, rule.selections.size());
  memo_.resize(most);
}

void Matcher::BuildPrefilter(RouteList* list) const {
  Prefilter& p = list->prefilter;
  std::vector<const FieldItem*> gates;
  auto usable = [&](const FieldItem& item) {
    // EventID and Channel hold for every event of the list: no use as a gate. (Data may stand
    // for the unnamed items, which the probe does not read.)
    if (item.field >= 0 && (item.field == event_id_field_ || item.field == channel_field_ ||
                            item.field == data_field_)) {
      return false;
    }
    return Indexable(item);
  };
  for (uint32_t index : list->rules) {
    const Rule& rule = rules_.rules[index];
    const auto any = Necessary(rule, rule.condition.root, usable);
    p.rule_gates.push_back(static_cast<uint32_t>(p.gate_lists.size()));
    if (any) {
      for (const FieldItem* item : *any) {
        auto found = std::find(gates.begin(), gates.end(), item);
        if (found == gates.end()) found = gates.insert(gates.end(), item);
        p.gate_lists.push_back(static_cast<uint32_t>(found - gates.begin()));
      }
    }
  }
  p.rule_gates.push_back(static_cast<uint32_t>(p.gate_lists.size()));
  p.stamp.assign(gates.size(), 0);
  for (uint32_t g = 0; g < gates.size(); ++g) {
    const FieldItem& item = *gates[g];
    auto field = std::find_if(p.fields.begin(), p.fields.end(),
                              [&](const Prefilter::Field& f) { return f.field == item.field; });
    if (field == p.fields.end()) {
      p.fields.push_back({.field = item.field});
      field = p.fields.end() - 1;
    }
    for (const Pattern* pattern : Needed(item)) {
      std::string_view t = Needle(*pattern);
      if (pattern->cased) {  // gated by its lowercase, kept here
        std::string& lower = p.lowercase.emplace_back(t);
        for (char& c : lower) c = absl::ascii_tolower(c);
        t = lower;
      }
      switch (pattern->kind) {
        case MatchKind::kEquals:
          field->exact[std::string(t)].push_back(g);
          break;
        case MatchKind::kStartsWith:
          field->prefix[Key3(t)].push_back({g, t});
          break;
        case MatchKind::kEndsWith:
          field->suffix[Key3(t.substr(t.size() - 3))].push_back({g, t});
          break;
        default: {  // kContains, a glob's run: found where its rarest three bytes are
          const size_t at = RarestGram(t);
          field->gram[Key3(t.substr(at))].push_back({g, t, static_cast<uint32_t>(at)});
          break;
        }
      }
    }
  }
  for (Prefilter::Field& f : p.fields) {
    if (f.gram.empty()) continue;
    // About 64 bits per key: few false hits, and small enough to stay in cache.
    int bits = 9;
    while (bits < 16 && (size_t{1} << bits) < 64 * f.gram.size()) ++bits;
    f.gram_shift = 32 - bits;
    f.gram_bits.assign((size_t{1} << bits) / 64, 0);
    for (const auto& [key, probes] : f.gram) {
      const uint32_t h = GramHash(key, f.gram_shift);
      f.gram_bits[h / 64] |= uint64_t{1} << (h % 64);
    }
  }
}

void Matcher::Probe(Prefilter& p) {
  for (const Prefilter::Field& f : p.fields) {
    if (f.field < 0) {
      for (const FieldValue& v : AllValues()) ProbeValue(p, f, v.lower);
      continue;
    }
    const FieldValue* value = Value(f.field);
    if (value == nullptr) continue;  // absent: none of its gates hold
    ProbeValue(p, f, value->lower);
  }
}

void Matcher::ProbeValue(Prefilter& p, const Prefilter::Field& f, std::string_view v) const {
  // A kind of probe the field has none of costs nothing: a keyword field has only grams, and
  // hashing every value of the event for its empty exact map was measurable.
  if (!f.exact.empty()) {
    if (const auto it = f.exact.find(ToAbsl(v)); it != f.exact.end()) {
      for (uint32_t g : it->second) p.stamp[g] = generation_;
    }
  }
  if (v.size() < 3) return;
  if (const auto it = f.prefix.empty() ? f.prefix.end() : f.prefix.find(Key3(v));
      it != f.prefix.end()) {
    for (const Prefilter::Probe& probe : it->second) {
      if (v.starts_with(probe.needle)) p.stamp[probe.gate] = generation_;
    }
  }
  if (const auto it =
          f.suffix.empty() ? f.suffix.end() : f.suffix.find(Key3(v.substr(v.size() - 3)));
      it != f.suffix.end()) {
    for (const Prefilter::Probe& probe : it->second) {
      if (v.ends_with(probe.needle)) p.stamp[probe.gate] = generation_;
    }
  }
  if (f.gram.empty()) return;
  for (size_t i = 0; i + 3 <= v.size(); ++i) {
    const uint32_t key = Key3(v.substr(i));
    const uint32_t h = GramHash(key, f.gram_shift);
    if ((f.gram_bits[h / 64] >> (h % 64) & 1) == 0) continue;
    const auto it = f.gram.find(key);
    if (it == f.gram.end()) continue;
    for (const Prefilter::Probe& probe : it->second) {
      if (i >= probe.offset && v.substr(i - probe.offset).starts_with(probe.needle)) {
        p.stamp[probe.gate] = generation_;
      }
    }
  }
}

std::vector<uint32_t> Matcher::RoutedIds() const {
  std::vector<uint32_t> ids;
  auto add = [&](const Routes& r) {
    for (const auto& [id, list] : r.by_id) ids.push_back(id);
  };
  add(any_channel_);
  for (const auto& [name, r] : channels_) add(r);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

bool Matcher::RoutesEveryId() const {
  if (!any_channel_.any_id.rules.empty()) return true;
  for (const auto& [name, r] : channels_) {
    if (!r.any_id.rules.empty()) return true;
  }
  return false;
}

Matcher::Routes* Matcher::ChannelRoutes(std::string_view channel) {
  if (const auto it = seen_channels_.find(ToAbsl(channel)); it != seen_channels_.end()) {
    return it->second;
  }
  lower_channel_.assign(channel);
  for (char& c : lower_channel_) c = absl::ascii_tolower(c);
  const auto it = channels_.find(lower_channel_);
  Routes* routes = it == channels_.end() ? nullptr : &it->second;
  // A few spellings per channel in practice; beyond the bound, looked up each time.
  if (seen_channels_.size() < kMaxChannelSpellings) seen_channels_.emplace(channel, routes);
  return routes;
}

const std::vector<uint32_t>& Matcher::Match(const Event& event) {
  matched_.clear();
  Routes* routes = ChannelRoutes(event.channel);
  RouteList* lists[4] = {};
  size_t n = 0;
  for (Routes* r : {routes, &any_channel_}) {
    if (r == nullptr) continue;
    if (const auto it = r->by_id.find(event.event_id); it != r->by_id.end()) {
      lists[n++] = &it->second;
    }
    if (!r->any_id.rules.empty()) lists[n++] = &r->any_id;
  }
  if (n == 0) return matched_;
  Prepare(event);
  for (size_t l = 0; l < n; ++l) {
    Prefilter& prefilter = lists[l]->prefilter;
    Probe(prefilter);
    const std::vector<uint32_t>& list = lists[l]->rules;
    for (size_t at = 0; at < list.size(); ++at) {
      if (!prefilter.MayMatch(at, generation_)) {
        ++spared_;  // none of the literals one of which every match needs is in the event
        continue;
      }
      const uint32_t index = list[at];
      const Rule& rule = rules_.rules[index];
      ++evaluations_;
      std::fill(memo_.begin(), memo_.begin() + static_cast<ptrdiff_t>(rule.selections.size()), -1);
      const bool hit = Evaluate(rule.condition, rule.condition.root, [&](int s) {
        int8_t& m = memo_[static_cast<size_t>(s)];
        if (m < 0) m = SelectionMatches(rule, s) ? 1 : 0;
        return m == 1;
      });
      if (hit) matched_.push_back(index);
    }
  }
  // Two lists (channel and any channel) may both hold rules: report in rule order.
  if (n > 1) std::sort(matched_.begin(), matched_.end());
  return matched_;
}

void Matcher::Prepare(const Event& event) {
  event_ = &event;
  if (++generation_ == 0) {  // wrapped: forget every stamp
    std::fill(stamp_.begin(), stamp_.end(), 0);
    std::fill(lower_stamp_.begin(), lower_stamp_.end(), 0);
    auto reset = [](Routes& r) {
      std::fill(r.any_id.prefilter.stamp.begin(), r.any_id.prefilter.stamp.end(), 0);
      for (auto& [id, list] : r.by_id) {
        std::fill(list.prefilter.stamp.begin(), list.prefilter.stamp.end(), 0);
      }
    };
    reset(any_channel_);
    for (auto& [name, r] : channels_) reset(r);
    keywords_stamp_ = 0;
    generation_ = 1;
  }
  size_t total = event.channel.size() + event.provider_name.size() + event.host.size() + 16;
  auto set = [&](int64_t field, std::string_view text) {
    if (field < 0) return;
    values_[static_cast<size_t>(field)] = {text, {}};
    stamp_[static_cast<size_t>(field)] = generation_;
  };
  const auto [end, ec] =
      std::to_chars(event_id_text_, event_id_text_ + sizeof(event_id_text_), event.event_id);
  set(event_id_field_, std::string_view(event_id_text_, static_cast<size_t>(end - event_id_text_)));
  set(channel_field_, event.channel);
  set(provider_field_, event.provider_name);
  set(computer_field_, event.host);
  params_.clear();
  for (size_t i = 0; i < event.data.size(); ++i) {
    const std::string_view value = event.data.value(i);
    total += value.size();
    if (data_field_ >= 0 && IsUnnamed(event.data.name(i))) {
      params_.push_back(static_cast<uint32_t>(i));
    }
    int64_t field = rules_.fields.Find(event.data.name(i));
    if (field < 0) field = FindWithoutSpaces(event.data.name(i));
    // The first item of a name wins (as EventData::Find).
    if (field >= 0 && stamp_[static_cast<size_t>(field)] != generation_) set(field, value);
  }
  // Every lowercase copy of this event fits: views into lower_ stay valid while it is matched.
  lower_.clear();
  lower_.reserve(2 * total);  // field values, and every value once more for keyword searches
}

int64_t Matcher::FindWithoutSpaces(std::string_view name) {
  // Windows Defender names its data "Source Name", "Threat Name"; Sigma rules (and every Sigma
  // backend's Windows mapping) write them without the spaces.
  if (!absl::StrContains(ToAbsl(name), ' ')) return -1;
  spaceless_.clear();
  for (char c : name) {
    if (c != ' ') spaceless_.push_back(c);
  }
  return rules_.fields.Find(spaceless_);
}

const FieldValue* Matcher::Value(int64_t field) {
  const auto f = static_cast<size_t>(field);
  if (stamp_[f] != generation_) return nullptr;
  FieldValue& v = values_[f];
  if (lower_stamp_[f] != generation_) {
    const size_t at = lower_.size();
    AppendLower(v.text, &lower_);
    v.lower = std::string_view(lower_).substr(at, v.text.size());
    lower_stamp_[f] = generation_;
  }
  return &v;
}

const std::vector<FieldValue>& Matcher::AllValues() {
  if (keywords_stamp_ != generation_) {
    // Every value of the event, lowercased once for all the keyword searches of this event.
    keyword_values_.clear();
    for (size_t i = 0; i < event_->data.size(); ++i) {
      const std::string_view text = event_->data.value(i);
      const size_t at = lower_.size();
      AppendLower(text, &lower_);
      keyword_values_.push_back({text, std::string_view(lower_).substr(at, text.size())});
    }
    keywords_stamp_ = generation_;
  }
  return keyword_values_;
}

bool Matcher::KeywordMatches(const Pattern& p) {
  for (const FieldValue& v : AllValues()) {
    if (Matches(p, v)) return true;
  }
  return false;
}

bool Matcher::UnnamedDataMatches(const FieldItem& item) {
  // Sigma's `Data` is the event data of an event whose items have no names (classic
  // PowerShell 400/600/800, MSSQL, ESENT, ...): an item holds if one of them does.
  const std::vector<FieldValue>& values = AllValues();
  auto one = [&](const Pattern& p) {
    if (p.kind == MatchKind::kExists) return !params_.empty() == p.exists;
    if (p.kind == MatchKind::kNull) return params_.empty();
    for (uint32_t i : params_) {
      if (Matches(p, values[i])) return true;
    }
    return false;
  };
  for (const Pattern& p : item.values) {
    if (one(p) != item.all) return !item.all;
  }
  return item.all;
}

bool Matcher::ItemMatches(const FieldItem& item) {
  if (item.field < 0) {
    for (const Pattern& p : item.values) {
      if (KeywordMatches(p) != item.all) return !item.all;
    }
    return item.all;
  }
  const FieldValue* value = Value(item.field);
  if (value == nullptr && item.field == data_field_) return UnnamedDataMatches(item);
  auto one = [&](const Pattern& p) {
    switch (p.kind) {
      case MatchKind::kExists:
        return (value != nullptr) == p.exists;
      case MatchKind::kNull:
        return value == nullptr || value->text.empty();
      case MatchKind::kFieldRef: {
        const FieldValue* ref = Value(static_cast<int64_t>(p.ref_field));
        return value != nullptr && ref != nullptr && Matches(p, *value, ref);
      }
      default:
        return value != nullptr && Matches(p, *value);
    }
  };
  for (const Pattern& p : item.values) {
    if (one(p) != item.all) return !item.all;
  }
  return item.all;
}

bool Matcher::SelectionMatches(const Rule& rule, int selection) {
  for (const std::vector<FieldItem>& alternative :
       rule.selections[static_cast<size_t>(selection)].alternatives) {
    bool all = true;
    for (const FieldItem& item : alternative) {
      if (!ItemMatches(item)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace faultline::sigma

#include "detect/sigma/matcher.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "core/strings.h"

namespace faultline::sigma {
namespace {

constexpr size_t kMaxChannelSpellings = 4096;

void AddRoute(std::vector<uint32_t>* list, uint32_t rule) {
  if (list->empty() || list->back() != rule) list->push_back(rule);
}

}  // namespace

Matcher::Matcher(const RuleSet& rules) : rules_(rules) {
  for (uint32_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& rule = rules.rules[i];
    std::vector<Routes*> targets;
    if (rule.channels.empty()) {
      targets.push_back(&any_channel_);
    } else {
      for (const std::string& c : rule.channels) targets.push_back(&channels_[c]);
    }
    for (Routes* r : targets) {
      if (rule.event_ids.empty()) {
        AddRoute(&r->any_id, i);
      } else {
        for (uint32_t id : rule.event_ids) AddRoute(&r->by_id[id], i);
      }
    }
  }
  event_id_field_ = rules.fields.Find("EventID");
  channel_field_ = rules.fields.Find("Channel");
  provider_field_ = rules.fields.Find("Provider_Name");
  computer_field_ = rules.fields.Find("Computer");
  values_.resize(rules.fields.size());
  stamp_.resize(rules.fields.size());
  lower_stamp_.resize(rules.fields.size());
  size_t most = 0;
  for (const Rule& rule : rules.rules) most = std::max(most, rule.selections.size());
  memo_.resize(most);
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
  if (!any_channel_.any_id.empty()) return true;
  for (const auto& [name, r] : channels_) {
    if (!r.any_id.empty()) return true;
  }
  return false;
}

const Matcher::Routes* Matcher::ChannelRoutes(std::string_view channel) {
  if (const auto it = seen_channels_.find(ToAbsl(channel)); it != seen_channels_.end()) {
    return it->second;
  }
  lower_channel_.assign(channel);
  for (char& c : lower_channel_) c = absl::ascii_tolower(c);
  const auto it = channels_.find(lower_channel_);
  const Routes* routes = it == channels_.end() ? nullptr : &it->second;
  // A few spellings per channel in practice; beyond the bound, looked up each time.
  if (seen_channels_.size() < kMaxChannelSpellings) seen_channels_.emplace(channel, routes);
  return routes;
}

const std::vector<uint32_t>& Matcher::Match(const Event& event) {
  matched_.clear();
  const Routes* routes = ChannelRoutes(event.channel);
  const std::vector<uint32_t>* lists[4] = {};
  size_t n = 0;
  for (const Routes* r : {routes, static_cast<const Routes*>(&any_channel_)}) {
    if (r == nullptr) continue;
    if (const auto it = r->by_id.find(event.event_id); it != r->by_id.end()) {
      lists[n++] = &it->second;
    }
    if (!r->any_id.empty()) lists[n++] = &r->any_id;
  }
  if (n == 0) return matched_;
  Prepare(event);
  for (size_t l = 0; l < n; ++l) {
    for (uint32_t index : *lists[l]) {
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
  ++examined_;
  event_ = &event;
  if (++generation_ == 0) {  // wrapped: forget every stamp
    std::fill(stamp_.begin(), stamp_.end(), 0);
    std::fill(lower_stamp_.begin(), lower_stamp_.end(), 0);
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
  for (size_t i = 0; i < event.data.size(); ++i) {
    const std::string_view value = event.data.value(i);
    total += value.size();
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
  if (name.find(' ') == std::string_view::npos) return -1;
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

bool Matcher::KeywordMatches(const Pattern& p) {
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
  for (const FieldValue& v : keyword_values_) {
    if (Matches(p, v)) return true;
  }
  return false;
}

bool Matcher::ItemMatches(const FieldItem& item) {
  if (item.field < 0) {
    for (const Pattern& p : item.values) {
      if (KeywordMatches(p) != item.all) return !item.all;
    }
    return item.all;
  }
  const FieldValue* value = Value(item.field);
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

#include "detect/sigma/rules.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"
#include "detect/sigma/logsource.h"
#include "yaml-cpp/yaml.h"

namespace faultline::sigma {

uint32_t FieldIndex::Intern(std::string_view name) {
  auto [it, inserted] = ids_.try_emplace(std::string(name), static_cast<uint32_t>(names_.size()));
  if (inserted) names_.emplace_back(name);
  return it->second;
}

int64_t FieldIndex::Find(std::string_view name) const {
  const auto it = ids_.find(ToAbsl(name));
  return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

namespace {

// Thrown inside the compiler for a rule that cannot be used; caught per rule.
struct Unsupported {
  std::string reason;
};

[[noreturn]] void Refuse(std::string reason) { throw Unsupported{std::move(reason)}; }

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(ToAbsl(s)); }

// The UTF-8 text as UTF-16 code units, little or big endian (|utf16le, |utf16be, |wide).
std::string Utf16(std::string_view text, bool big_endian) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xF0 && i + 3 < text.size() + 0) {
      cp = ((c & 0x07u) << 18) | ((text[i + 1] & 0x3Fu) << 12) | ((text[i + 2] & 0x3Fu) << 6) |
           (text[i + 3] & 0x3Fu);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < text.size()) {
      cp = ((c & 0x0Fu) << 12) | ((text[i + 1] & 0x3Fu) << 6) | (text[i + 2] & 0x3Fu);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < text.size()) {
      cp = ((c & 0x1Fu) << 6) | (text[i + 1] & 0x3Fu);
      len = 2;
    }
    i += len;
    auto unit = [&](uint32_t u) {
      const char lo = static_cast<char>(u & 0xFF), hi = static_cast<char>((u >> 8) & 0xFF);
      out.push_back(big_endian ? hi : lo);
      out.push_back(big_endian ? lo : hi);
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

std::string Base64(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

// |base64offset: the three encodings of the value at byte offsets 0, 1 and 2 of a longer text,
// each cut to the characters that do not depend on the neighbours (as pySigma does).
std::vector<std::string> Base64Offsets(std::string_view bytes) {
  static constexpr size_t kStart[] = {0, 2, 3};
  static constexpr size_t kEndCut[] = {0, 3, 2};  // by (len + offset) % 3
  std::vector<std::string> out;
  for (size_t offset = 0; offset < 3; ++offset) {
    const std::string encoded = Base64(std::string(offset, ' ') + std::string(bytes));
    const size_t cut = kEndCut[(bytes.size() + offset) % 3];
    const size_t start = kStart[offset];
    if (encoded.size() < start + cut) continue;
    out.push_back(encoded.substr(start, encoded.size() - start - cut));
  }
  return out;
}

// |windash: a '-' or '/' that starts a word (`-enc`, `/c`) may be written with any of the
// characters Windows command lines accept for it.
std::vector<std::string> WindashVariants(std::string_view value) {
  static const std::vector<std::string> kDashes = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94",
                                                   "\xE2\x80\x95"};
  std::vector<size_t> at;
  for (size_t i = 0; i < value.size(); ++i) {
    const bool word_after =
        i + 1 < value.size() &&
        (absl::ascii_isalnum(static_cast<unsigned char>(value[i + 1])) || value[i + 1] == '_');
    const bool word_before =
        i > 0 &&
        (absl::ascii_isalnum(static_cast<unsigned char>(value[i - 1])) || value[i - 1] == '_');
    if ((value[i] == '-' || value[i] == '/') && word_after && !word_before) at.push_back(i);
  }
  std::vector<std::string> out = {""};
  size_t from = 0;
  for (size_t pos : at) {
    std::vector<std::string> next;
    const std::string_view between = value.substr(from, pos - from);
    for (const std::string& prefix : out) {
      for (const std::string& dash : kDashes) {
        next.push_back(absl::StrCat(prefix, ToAbsl(between), dash));
      }
    }
    out = std::move(next);
    from = pos + 1;
    if (out.size() > 3125) Refuse("|windash makes more than 3125 variants of one value");
  }
  for (std::string& s : out) s.append(value.substr(from));
  return out;
}

// |expand: `%name%` replaced by each configured value of the placeholder.
std::vector<std::string> Expand(const std::string& value, const LoadOptions& options) {
  std::vector<std::string> out = {""};
  size_t i = 0;
  while (i < value.size()) {
    const size_t open = value.find('%', i);
    const size_t close = open == std::string::npos ? open : value.find('%', open + 1);
    if (close == std::string::npos) {
      for (std::string& s : out) s.append(value.substr(i));
      break;
    }
    const std::string name = value.substr(open + 1, close - open - 1);
    const auto it = options.placeholders.find(name);
    if (it == options.placeholders.end()) {
      Refuse(absl::StrCat("|expand: placeholder %", name,
                          "% has no values (detect.sigma.placeholders)"));
    }
    std::vector<std::string> next;
    for (const std::string& prefix : out) {
      for (const std::string& v : it->second) {
        next.push_back(absl::StrCat(prefix, value.substr(i, open - i), v));
      }
    }
    out = std::move(next);
    i = close + 1;
  }
  return out;
}

struct Modifiers {
  bool contains = false, startswith = false, endswith = false, all = false, cased = false;
  bool re = false, re_i = false, re_m = false, re_s = false;
  bool cidr = false, exists = false, fieldref = false, expand = false, windash = false;
  bool base64 = false, base64offset = false;
  std::string utf16;  // "", "le", "be", "bom"
  bool numeric = false;
  NumericOp op = NumericOp::kGt;
};

Modifiers ParseModifiers(const std::vector<std::string_view>& names) {
  Modifiers m;
  for (std::string_view n : names) {
    if (n == "contains") {
      m.contains = true;
    } else if (n == "startswith") {
      m.startswith = true;
    } else if (n == "endswith") {
      m.endswith = true;
    } else if (n == "all") {
      m.all = true;
    } else if (n == "cased") {
      m.cased = true;
    } else if (n == "re") {
      m.re = true;
    } else if (n == "i" && m.re) {
      m.re_i = true;
    } else if (n == "m" && m.re) {
      m.re_m = true;
    } else if (n == "s" && m.re) {
      m.re_s = true;
    } else if (n == "cidr") {
      m.cidr = true;
    } else if (n == "exists") {
      m.exists = true;
    } else if (n == "fieldref") {
      m.fieldref = true;
    } else if (n == "expand") {
      m.expand = true;
    } else if (n == "windash") {
      m.windash = true;
    } else if (n == "base64") {
      m.base64 = true;
    } else if (n == "base64offset") {
      m.base64offset = true;
    } else if (n == "utf16le" || n == "wide") {
      m.utf16 = "le";
    } else if (n == "utf16be") {
      m.utf16 = "be";
    } else if (n == "utf16") {
      m.utf16 = "bom";
    } else if (n == "gt" || n == "gte" || n == "lt" || n == "lte") {
      m.numeric = true;
      m.op = n == "gt"    ? NumericOp::kGt
             : n == "gte" ? NumericOp::kGte
             : n == "lt"  ? NumericOp::kLt
                          : NumericOp::kLte;
    } else {
      Refuse(absl::StrCat("modifier '", ToAbsl(n), "' is not supported"));
    }
  }
  if (static_cast<int>(m.contains) + static_cast<int>(m.startswith) + static_cast<int>(m.endswith) >
      1) {
    Refuse("more than one of contains, startswith, endswith");
  }
  return m;
}

MatchKind LiteralKind(const Modifiers& m) {
  return m.contains     ? MatchKind::kContains
         : m.startswith ? MatchKind::kStartsWith
         : m.endswith   ? MatchKind::kEndsWith
                        : MatchKind::kEquals;
}

class Compiler {
 public:
  Compiler(const LoadOptions& options, FieldIndex* fields) : options_(options), fields_(fields) {}

  // `key` is "Field|mod|mod" (or "" for keywords); `values` the YAML value.
  FieldItem Item(std::string_view key, const YAML::Node& values) {
    std::vector<std::string_view> parts;
    for (absl::string_view part : absl::StrSplit(ToAbsl(key), '|')) parts.push_back(ToStd(part));
    const std::string_view field = parts.empty() ? std::string_view() : parts[0];
    const Modifiers m = ParseModifiers({parts.begin() + (parts.empty() ? 0 : 1), parts.end()});
    FieldItem item;
    item.all = m.all;
    item.field = field.empty() ? -1 : static_cast<int64_t>(fields_->Intern(field));
    keyword_ = field.empty();
    std::vector<const YAML::Node*> list;
    std::vector<YAML::Node> storage;
    if (values.IsSequence()) {
      for (const YAML::Node& v : values) storage.push_back(v);
    } else {
      storage.push_back(values);
    }
    if (storage.empty()) Refuse(absl::StrCat("'", ToAbsl(key), "' has an empty list of values"));
    for (const YAML::Node& v : storage) AddValues(m, v, &item);
    if (item.field < 0 && (m.exists || m.fieldref)) {
      Refuse("|exists and |fieldref need a field name");
    }
    return item;
  }

 private:
  void AddValues(const Modifiers& m, const YAML::Node& v, FieldItem* item) {
    if (!v.IsScalar() && !v.IsNull()) Refuse("a value is a list or a map, not a scalar");
    if (v.IsNull()) {
      if (m.contains || m.startswith || m.endswith || m.re || m.base64 || m.base64offset) {
        Refuse("a null value with a modifier");
      }
      Pattern p;
      p.kind = MatchKind::kNull;
      item->values.push_back(std::move(p));
      return;
    }
    const std::string& text = v.Scalar();
    if (m.exists) {
      Pattern p;
      p.kind = MatchKind::kExists;
      const std::string b = Lower(text);
      if (b != "true" && b != "false") Refuse("|exists takes true or false");
      p.exists = b == "true";
      item->values.push_back(std::move(p));
      return;
    }
    if (m.fieldref) {
      Pattern p;
      p.kind = MatchKind::kFieldRef;
      p.ref_kind = LiteralKind(m);
      p.cased = m.cased;
      p.ref_field = fields_->Intern(text);
      item->values.push_back(std::move(p));
      return;
    }
    if (m.re) {
      absl::StatusOr<Pattern> p = RegexPattern(text, m.re_i, m.re_m, m.re_s);
      if (!p.ok()) Refuse(std::string(p.status().message()));
      item->values.push_back(*std::move(p));
      return;
    }
    if (m.cidr) {
      absl::StatusOr<Pattern> p = CidrPattern(text);
      if (!p.ok()) Refuse(std::string(p.status().message()));
      item->values.push_back(*std::move(p));
      return;
    }
    if (m.numeric) {
      absl::StatusOr<Pattern> p = NumericPattern(text, m.op);
      if (!p.ok()) Refuse(std::string(p.status().message()));
      item->values.push_back(*std::move(p));
      return;
    }
    std::vector<std::string> texts = {text};
    if (m.expand) {
      std::vector<std::string> expanded;
      for (const std::string& t : texts) {
        for (std::string& e : Expand(t, options_)) expanded.push_back(std::move(e));
      }
      texts = std::move(expanded);
    }
    if (m.windash) {
      std::vector<std::string> dashed;
      for (const std::string& t : texts) {
        for (std::string& d : WindashVariants(t)) dashed.push_back(std::move(d));
      }
      texts = std::move(dashed);
    }
    const bool encoded = m.base64 || m.base64offset || !m.utf16.empty();
    if (!encoded) {
      // A keyword is searched for anywhere in the event (every backend does a full-text
      // substring search): unless a modifier says otherwise, it is contained.
      const bool keyword = keyword_ && !m.startswith && !m.endswith;
      for (const std::string& t : texts) {
        item->values.push_back(PlainPattern(t, m.contains || m.endswith || keyword,
                                            m.contains || m.startswith || keyword, m.cased));
      }
      return;
    }
    // Encoded values are literal bytes: no wildcards, and base64 is case-sensitive.
    for (const std::string& t : texts) {
      std::string bytes = t;
      if (m.utf16 == "le") bytes = Utf16(t, false);
      if (m.utf16 == "be") bytes = Utf16(t, true);
      if (m.utf16 == "bom") bytes = "\xFF\xFE" + Utf16(t, false);
      if (m.base64offset) {
        for (const std::string& b : Base64Offsets(bytes)) {
          item->values.push_back(LiteralPattern(b, LiteralKind(m), /*cased=*/true));
        }
      } else if (m.base64) {
        item->values.push_back(LiteralPattern(Base64(bytes), LiteralKind(m), /*cased=*/true));
      } else {
        item->values.push_back(LiteralPattern(bytes, LiteralKind(m), m.cased));
      }
    }
  }

  const LoadOptions& options_;
  FieldIndex* fields_;
  bool keyword_ = false;  // the item being compiled is a keyword search
};

std::string ScalarOr(const YAML::Node& node, std::string_view key) {
  const YAML::Node v = node[std::string(key)];
  return v && v.IsScalar() ? v.Scalar() : std::string();
}

// A search identifier's definition: a map (one alternative), a list of maps (alternatives), or
// a list of plain values (keywords).
Selection CompileSelection(const YAML::Node& def, Compiler& compiler) {
  Selection s;
  auto map_alternative = [&](const YAML::Node& map) {
    std::vector<FieldItem> items;
    for (const auto& entry : map) {
      items.push_back(compiler.Item(entry.first.Scalar(), entry.second));
    }
    if (items.empty()) Refuse("an empty map in the detection");
    s.alternatives.push_back(std::move(items));
  };
  if (def.IsMap()) {
    map_alternative(def);
  } else if (def.IsSequence()) {
    bool maps = false, scalars = false;
    for (const YAML::Node& e : def) (e.IsMap() ? maps : scalars) = true;
    if (maps && scalars) Refuse("a search identifier mixes maps and keywords");
    if (maps) {
      for (const YAML::Node& e : def) map_alternative(e);
    } else {
      s.alternatives.push_back({compiler.Item("", def)});
    }
  } else if (def.IsScalar()) {
    s.alternatives.push_back({compiler.Item("", def)});
  } else {
    Refuse("a search identifier is neither a map nor a list");
  }
  return s;
}

// The event ids an alternative requires (an EventID item of exact numbers), or nullopt: any.
std::optional<std::set<uint32_t>> RequiredIds(const std::vector<FieldItem>& items,
                                              int64_t event_id_field) {
  for (const FieldItem& item : items) {
    if (item.field != event_id_field || item.field < 0 || item.all) continue;
    std::set<uint32_t> ids;
    bool exact = true;
    for (const Pattern& p : item.values) {
      uint32_t id = 0;
      exact = exact && p.kind == MatchKind::kEquals && absl::SimpleAtoi(ToAbsl(p.text), &id);
      ids.insert(id);
    }
    if (exact) return ids;
  }
  return std::nullopt;
}

std::optional<std::set<uint32_t>> ConditionIds(const Rule& rule, int node, int64_t event_id) {
  const ConditionNode& n = rule.condition.nodes[static_cast<size_t>(node)];
  switch (n.kind) {
    case ConditionNode::Kind::kSelection: {
      std::set<uint32_t> all;
      for (const auto& alt : rule.selections[static_cast<size_t>(n.selection)].alternatives) {
        const auto ids = RequiredIds(alt, event_id);
        if (!ids) return std::nullopt;
        all.insert(ids->begin(), ids->end());
      }
      return all;
    }
    case ConditionNode::Kind::kNot:
      return std::nullopt;
    case ConditionNode::Kind::kAnd: {
      std::optional<std::set<uint32_t>> best;
      for (int c : n.children) {
        auto ids = ConditionIds(rule, c, event_id);
        if (ids && (!best || ids->size() < best->size())) best = std::move(ids);
      }
      return best;
    }
    case ConditionNode::Kind::kOr:
    case ConditionNode::Kind::kAtLeast: {
      std::set<uint32_t> all;
      for (int c : n.children) {
        auto ids = ConditionIds(rule, c, event_id);
        if (!ids) return std::nullopt;
        all.insert(ids->begin(), ids->end());
      }
      return all;
    }
  }
  return std::nullopt;
}

void Route(Rule* rule, int64_t event_id_field) {
  const Logsource& ls = rule->logsource;
  if (ls.product != "windows") {
    Refuse(ls.product.empty()
               ? std::string("the logsource names no product (faultline reads Windows event logs)")
               : absl::StrCat("logsource product '", ls.product,
                              "': faultline reads Windows event logs"));
  }
  LogsourceRoute route;
  if (!ls.service.empty()) {
    if (!ServiceRoute(ls.service, &route)) {
      Refuse(absl::StrCat("logsource service '", ls.service, "' has no known event log channel"));
    }
  } else if (!ls.category.empty()) {
    if (!CategoryRoute(ls.category, &route)) {
      Refuse(absl::StrCat("logsource category '", ls.category,
                          "' is not logged to an event log channel faultline knows (ETW or "
                          "another sensor)"));
    }
  }
  for (const std::string& c : route.channels) rule->channels.push_back(Lower(c));
  rule->event_ids = route.event_ids;
  if (rule->event_ids.empty() && event_id_field >= 0) {
    if (auto ids = ConditionIds(*rule, rule->condition.root, event_id_field)) {
      rule->event_ids.assign(ids->begin(), ids->end());
    }
  }
}

Logsource ReadLogsource(const YAML::Node& doc) {
  Logsource ls;
  const YAML::Node node = doc["logsource"];
  if (!node || !node.IsMap()) Refuse("no logsource");
  ls.product = Lower(ScalarOr(node, "product"));
  ls.category = Lower(ScalarOr(node, "category"));
  ls.service = Lower(ScalarOr(node, "service"));
  return ls;
}

// Compiles the search identifiers and condition of `detection` into `rule` (appending to what
// it has: a filter's go after the rule's own, under names of their own).
void CompileDetection(const YAML::Node& detection, std::string_view prefix, Compiler& compiler,
                      Rule* rule, std::vector<std::string>* conditions,
                      std::vector<std::string>* names) {
  if (!detection || !detection.IsMap()) Refuse("no detection");
  for (const auto& entry : detection) {
    const std::string key = entry.first.Scalar();
    if (key == "condition") {
      if (entry.second.IsSequence()) {
        for (const YAML::Node& c : entry.second) conditions->push_back(c.Scalar());
      } else if (entry.second.IsScalar()) {
        conditions->push_back(entry.second.Scalar());
      } else {
        Refuse("the condition is not text");
      }
      continue;
    }
    if (key == "timeframe") continue;  // only meaningful with an aggregation, refused below
    names->push_back(key);
    rule->selection_names.push_back(absl::StrCat(ToAbsl(prefix), key));
    rule->selections.push_back(CompileSelection(entry.second, compiler));
  }
  if (conditions->empty()) Refuse("the detection has no condition");
}

int AddNode(Condition* c, ConditionNode node) {
  c->nodes.push_back(std::move(node));
  return static_cast<int>(c->nodes.size()) - 1;
}

// Parses `conditions` (any of them: a list of conditions is their `or`) over the identifiers
// `names` (as written), the rule's selections from `first` on, into `rule->condition`; returns
// the root.
int CompileConditions(const std::vector<std::string>& conditions,
                      const std::vector<std::string>& bare, size_t first, Rule* rule) {
  ConditionNode any{.kind = ConditionNode::Kind::kOr};
  for (const std::string& text : conditions) {
    absl::StatusOr<Condition> parsed = ParseCondition(text, bare);
    if (!parsed.ok()) Refuse(std::string(parsed.status().message()));
    // Splice the parsed tree in, renumbering its nodes and selections.
    const int offset = static_cast<int>(rule->condition.nodes.size());
    for (ConditionNode n : parsed->nodes) {
      for (int& child : n.children) child += offset;
      if (n.kind == ConditionNode::Kind::kSelection) n.selection += static_cast<int>(first);
      rule->condition.nodes.push_back(std::move(n));
    }
    any.children.push_back(parsed->root + offset);
  }
  return any.children.size() == 1 ? any.children[0] : AddNode(&rule->condition, std::move(any));
}

}  // namespace

struct PendingFilter {
  std::string title, file;
  int line = 0;
  Logsource logsource;
  std::vector<std::string> rules;  // ids or titles
  YAML::Node detection;            // the filter: map without `rules`
  YAML::Node doc;                  // a correlation: the whole document
};

namespace {

void LoadDocument(std::string_view file, const YAML::Node& doc, const LoadOptions& options,
                  RuleSet* out) {
  const int line = doc.Mark().line + 1;
  const std::string title = doc.IsMap() ? ScalarOr(doc, "title") : std::string();
  try {
    if (!doc.IsMap()) Refuse("the document is not a map");
    if (doc["correlation"]) {
      PendingFilter c{.title = title, .file = std::string(file), .line = line};
      c.doc = doc;
      out->pending_correlations.push_back(std::make_shared<PendingFilter>(std::move(c)));
      return;
    }
    if (ScalarOr(doc, "action") == "global" || ScalarOr(doc, "action") == "repeat") {
      Refuse("a Sigma 1 collection action (global/repeat)");
    }
    if (doc["filter"] && !doc["detection"]) {
      PendingFilter f{.title = title, .file = std::string(file), .line = line};
      f.logsource = ReadLogsource(doc);
      const YAML::Node filter = doc["filter"];
      if (!filter.IsMap()) Refuse("the filter is not a map");
      YAML::Node detection(YAML::NodeType::Map);
      for (const auto& entry : filter) {
        if (entry.first.Scalar() == "rules") {
          if (entry.second.IsSequence()) {
            for (const YAML::Node& r : entry.second) {
              if (!r.IsScalar() || r.Scalar().empty()) {
                Refuse("filter.rules: an entry is not a rule id or name");
              }
              f.rules.push_back(r.Scalar());
            }
          } else if (entry.second.IsScalar() && !entry.second.Scalar().empty()) {
            f.rules.push_back(entry.second.Scalar());
          }
        } else {
          detection[entry.first.Scalar()] = entry.second;
        }
      }
      if (f.rules.empty()) Refuse("the filter names no rule (filter.rules)");
      f.detection = detection;
      ++out->filters;
      out->pending_filters.push_back(std::make_shared<PendingFilter>(std::move(f)));
      return;
    }
    Rule rule;
    rule.file = std::string(file);
    rule.line = line;
    rule.title = title;
    rule.id = ScalarOr(doc, "id");
    rule.name = ScalarOr(doc, "name");
    rule.level = Lower(ScalarOr(doc, "level"));
    rule.status = ScalarOr(doc, "status");
    rule.description = ScalarOr(doc, "description");
    if (rule.title.empty()) Refuse("no title");
    if (const YAML::Node tags = doc["tags"]; tags && tags.IsSequence()) {
      for (const YAML::Node& t : tags) rule.tags.push_back(t.Scalar());
    }
    rule.logsource = ReadLogsource(doc);
    Compiler compiler(options, &out->fields);
    std::vector<std::string> conditions, names;
    CompileDetection(doc["detection"], "", compiler, &rule, &conditions, &names);
    rule.condition.root = CompileConditions(conditions, names, 0, &rule);
    Route(&rule, out->fields.Find("EventID"));
    out->rules.push_back(std::move(rule));
  } catch (const Unsupported& u) {
    out->skipped.push_back({std::string(file), line, title, u.reason});
  } catch (const YAML::Exception& e) {
    out->skipped.push_back({std::string(file), line, title, e.what()});
  }
}

}  // namespace

void LoadRuleText(std::string_view name, std::string_view text, const LoadOptions& options,
                  RuleSet* out) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    out->skipped.push_back(
        {std::string(name), e.mark.line + 1, "", absl::StrCat("not YAML: ", e.msg)});
    return;
  }
  for (const YAML::Node& doc : docs) {
    if (doc.IsNull()) continue;
    LoadDocument(name, doc, options, out);
  }
}

namespace {

void ApplyFilters(const LoadOptions& options, RuleSet* out) {
  std::vector<std::shared_ptr<PendingFilter>> filters = std::move(out->pending_filters);
  out->pending_filters.clear();
  for (const auto& pending : filters) {
    const PendingFilter& f = *pending;
    size_t applied = 0;
    for (Rule& rule : out->rules) {
      // By id or name, as pySigma resolves them (and by title); never by an empty one.
      auto names = [&](const std::string& key) {
        return !key.empty() && std::find(f.rules.begin(), f.rules.end(), key) != f.rules.end();
      };
      const bool named = names(rule.id) || names(rule.name) || names(rule.title);
      if (!named) continue;
      const Logsource& a = f.logsource;
      const Logsource& b = rule.logsource;
      if (a.product != b.product || a.category != b.category || a.service != b.service) {
        out->skipped.push_back(
            {f.file, f.line, f.title,
             absl::StrCat("filter not applied to '", rule.title, "': its logsource differs")});
        continue;
      }
      try {
        Rule changed = rule;
        Compiler compiler(options, &out->fields);
        std::vector<std::string> conditions, names;
        const size_t first = changed.selections.size();
        CompileDetection(f.detection, absl::StrCat(f.title, ": "), compiler, &changed, &conditions,
                         &names);
        const int filter_root = CompileConditions(conditions, names, first, &changed);
        ConditionNode both{.kind = ConditionNode::Kind::kAnd};
        both.children = {changed.condition.root, filter_root};
        changed.condition.root = AddNode(&changed.condition, std::move(both));
        changed.filters.push_back(f.title);
        rule = std::move(changed);
        ++applied;
      } catch (const Unsupported& u) {
        out->skipped.push_back({f.file, f.line, f.title, u.reason});
      }
    }
    if (applied == 0) {
      out->skipped.push_back(
          {f.file, f.line, f.title, "filter names no loaded rule (by id or title)"});
    }
  }
}

absl::Duration ParseTimespan(const std::string& text) {
  int64_t n = 0;
  if (text.size() < 2 || !absl::SimpleAtoi(text.substr(0, text.size() - 1), &n) || n <= 0) {
    Refuse(absl::StrCat("timespan '", text, "' is not a number and a unit (30s, 5m, 1h, 1d)"));
  }
  switch (text.back()) {
    case 's':
      return absl::Seconds(n);
    case 'm':
      return absl::Minutes(n);
    case 'h':
      return absl::Hours(n);
    case 'd':
      return absl::Hours(int64_t{24} * n);
    case 'w':
      return absl::Hours(int64_t{168} * n);  // a week
    default:
      break;
  }
  Refuse(absl::StrCat("timespan '", text, "' has no unit s, m, h, d or w"));
}

std::vector<std::string> StringList(const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node) return out;
  if (node.IsScalar()) return {node.Scalar()};
  if (!node.IsSequence()) Refuse("a list was expected");
  for (const YAML::Node& n : node) out.push_back(n.Scalar());
  return out;
}

CorrelationType ParseCorrelationType(const std::string& type) {
  static const std::pair<const char*, CorrelationType> kTypes[] = {
      {"event_count", CorrelationType::kEventCount},
      {"value_count", CorrelationType::kValueCount},
      {"temporal", CorrelationType::kTemporal},
      {"temporal_ordered", CorrelationType::kTemporalOrdered},
      {"value_sum", CorrelationType::kValueSum},
      {"value_avg", CorrelationType::kValueAvg},
      {"value_percentile", CorrelationType::kValuePercentile},
  };
  for (const auto& [name, t] : kTypes) {
    if (type == name) return t;
  }
  Refuse(absl::StrCat("correlation type '", type,
                      "' is not one of event_count, value_count, "
                      "temporal, temporal_ordered, value_sum, value_avg, value_percentile"));
}

// Compiles one correlation whose references all resolve (`lookup`: a name or id to its
// reference, with the name the aliases use).
Correlation CompileCorrelation(
    const PendingFilter& p,
    const std::function<std::optional<Correlation::Reference>(const std::string&)>& lookup) {
  const YAML::Node& doc = p.doc;
  const YAML::Node body = doc["correlation"];
  if (!body.IsMap()) Refuse("the correlation section is not a map");
  Correlation c;
  c.title = p.title;
  c.file = p.file;
  c.line = p.line;
  c.id = ScalarOr(doc, "id");
  c.name = ScalarOr(doc, "name");
  c.level = Lower(ScalarOr(doc, "level"));
  if (c.title.empty()) Refuse("no title");
  if (const YAML::Node tags = doc["tags"]; tags && tags.IsSequence()) {
    for (const YAML::Node& t : tags) c.tags.push_back(t.Scalar());
  }
  c.type = ParseCorrelationType(ScalarOr(body, "type"));
  const std::vector<std::string> refs = StringList(body["rules"]);
  if (refs.empty()) Refuse("the correlation names no rule (correlation.rules)");
  for (const std::string& r : refs) {
    std::optional<Correlation::Reference> found = lookup(r);
    if (!found) Refuse(absl::StrCat("refers to '", r, "', which is not loaded"));
    c.refs.push_back(*found);
  }
  c.group_by = StringList(body["group-by"]);
  c.timespan = ParseTimespan(ScalarOr(body, "timespan"));
  const YAML::Node generate = body["generate"] ? body["generate"] : doc["generate"];
  c.generate = generate && generate.IsScalar() && Lower(generate.Scalar()) == "true";
  // Aliases: alias -> (rule name as referenced -> field).
  std::map<std::string, std::map<std::string, std::string>> aliases;
  if (const YAML::Node a = body["aliases"]; a) {
    if (!a.IsMap()) Refuse("aliases is not a map");
    for (const auto& alias : a) {
      if (!alias.second.IsMap()) Refuse("an alias is not a map of rule name to field");
      for (const auto& e : alias.second) {
        aliases[alias.first.Scalar()][e.first.Scalar()] = e.second.Scalar();
      }
    }
  }
  auto field_for = [&](const std::string& name, size_t ref) {
    const auto it = aliases.find(name);
    if (it == aliases.end()) return name;
    const auto field = it->second.find(refs[ref]);
    if (field == it->second.end()) {
      Refuse(absl::StrCat("alias '", name, "' names no field for rule '", refs[ref], "'"));
    }
    return field->second;
  };
  c.group_fields.resize(refs.size());
  for (size_t r = 0; r < refs.size(); ++r) {
    for (const std::string& g : c.group_by) c.group_fields[r].push_back(field_for(g, r));
  }
  const YAML::Node cond = body["condition"];
  const bool temporal =
      c.type == CorrelationType::kTemporal || c.type == CorrelationType::kTemporalOrdered;
  if (cond) {
    if (!cond.IsMap()) Refuse("the correlation's condition is not a map");
    for (const auto& e : cond) {
      const std::string key = e.first.Scalar();
      if (key == "field") {
        for (size_t r = 0; r < refs.size(); ++r) {
          c.value_field.push_back(field_for(e.second.Scalar(), r));
        }
        continue;
      }
      double v = 0;
      if (!e.second.IsScalar() || !absl::SimpleAtod(e.second.Scalar(), &v)) {
        Refuse(absl::StrCat("condition ", key, ": not a number"));
      }
      if (key == "percentile") {
        if (v <= 0 || v > 100) Refuse("condition percentile: not in (0, 100]");
        c.percentile = v;
      } else if (key == "gt") {
        c.condition.gt = v;
      } else if (key == "gte") {
        c.condition.gte = v;
      } else if (key == "lt") {
        c.condition.lt = v;
      } else if (key == "lte") {
        c.condition.lte = v;
      } else if (key == "eq") {
        c.condition.eq = v;
      } else {
        Refuse(
            absl::StrCat("condition '", key, "' is not gt, gte, lt, lte, eq, field or percentile"));
      }
      c.has_condition = true;
    }
  }
  if (!temporal && !c.has_condition) Refuse("the correlation has no condition");
  const bool needs_field =
      c.type == CorrelationType::kValueCount || c.type == CorrelationType::kValueSum ||
      c.type == CorrelationType::kValueAvg || c.type == CorrelationType::kValuePercentile;
  if (needs_field && c.value_field.empty()) Refuse("this correlation type needs condition.field");
  const bool counts =
      c.type == CorrelationType::kEventCount || c.type == CorrelationType::kValueCount || temporal;
  if (counts && c.has_condition && (c.condition.lt || c.condition.lte) && c.condition.Holds(1)) {
    // "Fewer than N" is a matter of absence at a window's end; a stream would fire on the
    // first event.
    Refuse("a count condition one event meets (lt, lte): absence is not evaluated");
  }
  return c;
}

void ResolveCorrelations(RuleSet* out) {
  std::vector<std::shared_ptr<PendingFilter>> pending = std::move(out->pending_correlations);
  out->pending_correlations.clear();
  std::map<std::string, uint32_t> rules;
  for (uint32_t i = 0; i < out->rules.size(); ++i) {
    if (!out->rules[i].id.empty()) rules.emplace(out->rules[i].id, i);
    if (!out->rules[i].name.empty()) rules.emplace(out->rules[i].name, i);
  }
  std::map<std::string, uint32_t> done;  // correlation id or name -> index
  // The names and ids every pending correlation answers to: a reference to one that is not yet
  // compiled waits for it.
  std::set<std::string> waiting;
  for (const auto& p : pending) {
    waiting.insert(ScalarOr(p->doc, "id"));
    waiting.insert(ScalarOr(p->doc, "name"));
  }
  waiting.erase("");
  std::vector<bool> finished(pending.size(), false);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (finished[i]) continue;
      bool blocked = false;
      auto lookup = [&](const std::string& ref) -> std::optional<Correlation::Reference> {
        if (auto it = done.find(ref); it != done.end()) {
          return Correlation::Reference{true, it->second};
        }
        if (auto it = rules.find(ref); it != rules.end()) {
          return Correlation::Reference{false, it->second};
        }
        if (waiting.contains(ref)) blocked = true;
        return std::nullopt;
      };
      try {
        Correlation c = CompileCorrelation(*pending[i], lookup);
        const auto index = static_cast<uint32_t>(out->correlations.size());
        for (const std::string& key : {c.id, c.name}) {
          if (!key.empty()) {
            done.emplace(key, index);
            waiting.erase(key);
          }
        }
        out->correlations.push_back(std::move(c));
        finished[i] = progress = true;
      } catch (const Unsupported& u) {
        if (blocked) continue;  // tried again once what it refers to is compiled
        out->skipped.push_back({pending[i]->file, pending[i]->line, pending[i]->title, u.reason});
        finished[i] = progress = true;
        for (const std::string& key :
             {ScalarOr(pending[i]->doc, "id"), ScalarOr(pending[i]->doc, "name")}) {
          waiting.erase(key);
        }
      } catch (const YAML::Exception& e) {
        out->skipped.push_back({pending[i]->file, pending[i]->line, pending[i]->title, e.what()});
        finished[i] = progress = true;
      }
    }
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!finished[i]) {
      out->skipped.push_back({pending[i]->file, pending[i]->line, pending[i]->title,
                              "its references form a cycle of correlations"});
    }
  }
  // generate: false (the default) keeps a referenced rule's own alerts back.
  std::vector<int> rule_refs(out->rules.size(), 0), rule_generate(out->rules.size(), 0);
  std::vector<int> corr_refs(out->correlations.size(), 0),
      corr_generate(out->correlations.size(), 0);
  for (const Correlation& c : out->correlations) {
    for (const Correlation::Reference& r : c.refs) {
      (r.correlation ? corr_refs : rule_refs)[r.index] += 1;
      (r.correlation ? corr_generate : rule_generate)[r.index] += c.generate ? 1 : 0;
    }
  }
  for (size_t i = 0; i < out->rules.size(); ++i) {
    out->rules[i].alerts = rule_refs[i] == 0 || rule_generate[i] > 0;
  }
  for (size_t i = 0; i < out->correlations.size(); ++i) {
    out->correlations[i].alerts = corr_refs[i] == 0 || corr_generate[i] > 0;
  }
}

}  // namespace

void FinishLoading(const LoadOptions& options, RuleSet* out) {
  ApplyFilters(options, out);
  ResolveCorrelations(out);
}

absl::StatusOr<RuleSet> LoadRules(const std::vector<std::string>& paths,
                                  const LoadOptions& options) {
  namespace fs = std::filesystem;
  RuleSet set;
  std::vector<fs::path> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
      }
      if (ec) return absl::NotFoundError(absl::StrCat(p, ": ", ec.message()));
    } else if (fs::exists(p, ec)) {
      files.emplace_back(p);
    } else {
      return absl::NotFoundError(absl::StrCat(p, ": no such file or directory"));
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      set.skipped.push_back({file.string(), 0, "", "cannot be read"});
      continue;
    }
    ++set.files;
    LoadRuleText(file.string(), text.str(), options, &set);
  }
  FinishLoading(options, &set);
  return set;
}

}  // namespace faultline::sigma

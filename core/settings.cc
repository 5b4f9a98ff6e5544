#include "core/settings.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"

namespace faultline::settings {
namespace {

// What a value looked like, for "got ..." in a message: short, and never raw control bytes.
std::string Shown(const YAML::Node& node) {
  if (!node.IsScalar()) {
    return node.IsSequence() ? "a list" : node.IsMap() ? "a mapping" : "nothing";
  }
  std::string out = "\"";
  const std::string& s = node.Scalar();
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

}  // namespace

void Problems::Add(const YAML::Node& at, std::string path, std::string message) {
  Problem p{.path = std::move(path), .message = std::move(message)};
  if (at.IsDefined() && at.Mark().line >= 0) {
    p.line = at.Mark().line + 1;
    p.column = at.Mark().column + 1;
  }
  list_.push_back(std::move(p));
}

void Problems::Saw(std::string path, const YAML::Node& key) {
  if (key.IsDefined() && key.Mark().line >= 0) {
    keys_.emplace(std::move(path), std::make_pair(key.Mark().line + 1, key.Mark().column + 1));
  }
}

namespace {

// Whether `inner` is `outer` or a setting inside it ("a.b" in "a", "a[2].c" in "a").
bool Within(std::string_view inner, std::string_view outer) {
  if (outer.empty()) return true;
  if (inner.substr(0, outer.size()) != outer) return false;
  return inner.size() == outer.size() || inner[outer.size()] == '.' || inner[outer.size()] == '[';
}

}  // namespace

bool Problems::Has(std::string_view path, bool around) const {
  for (const Problem& p : list_) {
    if (p.later || p.path.empty()) continue;
    if (around ? Within(path, p.path) : Within(p.path, path)) return true;
  }
  return false;
}

void Problems::AddLater(std::string_view path, std::string message, const SchemaBase* of) {
  std::string at_key;
  if (const size_t colon = message.find(": "); of != nullptr && colon != std::string::npos) {
    if (const std::string_view key = of->KeyOf(std::string_view(message).substr(0, colon));
        !key.empty()) {
      at_key = Join(path, key);
      message.erase(0, colon + 2);
      path = at_key;
    }
  }
  if (Has(path, /*around=*/true)) return;
  Problem problem{.path = std::string(path), .message = std::move(message), .later = true};
  // The key itself, else the nearest around it: "a.b[2].c", "a.b[2]", "a.b", "a".
  for (std::string_view at = path; !at.empty();) {
    if (auto it = keys_.find(at); it != keys_.end()) {
      problem.line = it->second.first;
      problem.column = it->second.second;
      break;
    }
    const size_t cut = at.find_last_of(".[");
    at = at.substr(0, cut == std::string_view::npos ? 0 : cut);
  }
  list_.push_back(std::move(problem));
}

absl::Status Problems::ToStatus(std::string_view file) const {
  if (list_.empty()) return absl::OkStatus();
  std::vector<Problem> sorted = list_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  std::vector<std::string> lines;
  for (const Problem& p : sorted) {
    std::string where = std::string(file);
    if (p.line > 0) absl::StrAppend(&where, where.empty() ? "" : ":", p.line);
    if (p.line > 0 && p.column > 0) absl::StrAppend(&where, ":", p.column);
    lines.push_back(absl::StrCat(where, where.empty() ? "" : ": ", p.path,
                                 p.path.empty() ? "" : ": ", p.message));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(ToAbsl(path), ".", ToAbsl(key));
}

std::string Index(std::string_view path, size_t i) {
  return absl::StrCat(ToAbsl(path), "[", i, "]");
}

std::string RedactUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "<not a URL>";
  std::string_view rest = url.substr(scheme + 3);
  // User info first (its password may hold / ? #), then the host ends at the path.
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  return absl::StrCat(ToAbsl(url.substr(0, scheme)), "://", ToAbsl(rest));
}

YAML::Node Seen::At(std::string_view key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? map_ : it->second;
}

void Checker::Error(std::string_view key, std::string message) {
  // A key whose value the reader refused (given as KEY, or a secret's KEY_file or KEY_env that
  // could not be read) has its problem already: a check across keys says nothing more of it.
  const std::string path = Join(seen_.path(), key);
  for (size_t i = 0; i < read_; ++i) {
    const std::string& refused = problems_.list()[i].path;
    for (const char* alias : {"", "_file", "_env"}) {
      if (Within(refused, path + alias)) return;
    }
  }
  problems_.Add(seen_.At(key), path, std::move(message));
}

void ReadMapping(const YAML::Node& node, const std::string& path, const std::vector<Part>& parts,
                 Problems& problems) {
  if (!node.IsDefined() || node.IsNull()) {  // an empty section: the defaults, if none is required
    for (const Part& part : parts) {
      for (const FieldInfo& f : part.schema->fields()) {
        if (f.required) problems.Add(node, Join(path, f.key), "required");
      }
    }
    return;
  }
  if (!node.IsMap()) {
    problems.Add(node, path, absl::StrCat("must be a mapping, got ", Shown(node)));
    return;
  }
  Seen seen(node, path);
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      problems.Add(kv.first, path, "a key must be a plain name");
      continue;
    }
    const std::string key = kv.first.Scalar();
    if (auto [it, fresh] = first_line.emplace(key, kv.first.Mark().line + 1); !fresh) {
      problems.Add(kv.first, Join(path, key),
                   absl::StrCat("given twice (first on line ", it->second, ")"));
      continue;
    }
    seen.Mark(key, kv.second);
    problems.Saw(Join(path, key), kv.first);
    bool known = false;
    for (const Part& part : parts) {
      if (part.schema->ReadKey(part.target, key, kv.second, path, seen, problems)) {
        known = true;
        break;
      }
    }
    if (!known) {
      std::vector<std::string> names;
      for (const Part& part : parts) {
        for (const FieldInfo& f : part.schema->fields()) names.push_back(f.key);
      }
      problems.Add(kv.first, Join(path, key),
                   absl::StrCat("unknown key (known: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  for (const Part& part : parts) {
    for (const FieldInfo& f : part.schema->fields()) {
      if (!f.required || seen.has(f.key)) continue;
      if (f.secret && (seen.has(f.key + "_file") || seen.has(f.key + "_env"))) continue;
      problems.Add(node, Join(path, f.key),
                   f.secret ? absl::StrCat("required (or ", f.key, "_file / ", f.key, "_env)")
                            : std::string("required"));
    }
    part.schema->Check(part.target, seen, problems);
  }
}

bool ReadString(const YAML::Node& node, const std::string& path, Problems& problems,
                std::string* out) {
  if (!node.IsScalar()) {
    problems.Add(
        node, path,
        node.IsNull() ? "has no value" : absl::StrCat("must be a string, got ", Shown(node)));
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool ReadInteger(const YAML::Node& node, const std::string& path, int64_t min, int64_t max,
                 Problems& problems, int64_t* out) {
  int64_t v = 0;
  bool parsed = node.IsScalar() && absl::SimpleAtoi(node.Scalar(), &v);
  if (!parsed && node.IsScalar()) {  // 0x10 and 0o20, as YAML writes them
    const std::string& t = node.Scalar();
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o')) {
      errno = 0;
      char* end = nullptr;
      const int64_t n = std::strtoll(t.c_str() + 2, &end, t[1] == 'x' ? 16 : 8);
      parsed = errno == 0 && end == t.c_str() + t.size() && std::isxdigit(t[2]);
      v = n;
    }
  }
  if (!parsed || v < min || v > max) {
    problems.Add(
        node, path,
        absl::StrCat("must be a whole number from ", min, " to ", max, ", got ", Shown(node)));
    return false;
  }
  *out = v;
  return true;
}

bool ReadBool(const YAML::Node& node, const std::string& path, Problems& problems, bool* out) {
  // YAML 1.2's forms (what editors' schemas accept), not 1.1's yes/no/on/off.
  const std::string s = node.IsScalar() ? node.Scalar() : "";
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    *out = s[0] == 't' || s[0] == 'T';
    return true;
  }
  problems.Add(node, path, absl::StrCat("must be true or false, got ", Shown(node)));
  return false;
}

std::string BoundText(Bound bound) {
  switch (bound) {
    case Bound::kAny:
      return "";
    case Bound::kNonNegative:
      return "0 or more";
    case Bound::kPositive:
      return "more than 0";
  }
  return "";
}

bool ReadDuration(const YAML::Node& node, const std::string& path, Bound bound, Problems& problems,
                  absl::Duration* out) {
  absl::Duration d;
  if (!node.IsScalar() || !absl::ParseDuration(node.Scalar(), &d) ||
      (bound != Bound::kAny && d < absl::ZeroDuration()) ||
      (bound == Bound::kPositive && d == absl::ZeroDuration())) {
    problems.Add(node, path,
                 absl::StrCat("must be a duration", bound == Bound::kAny ? "" : " ",
                              BoundText(bound), " such as 90s, 5m or 1h30m, got ", Shown(node)));
    return false;
  }
  *out = d;
  return true;
}

bool ReadGlob(const YAML::Node& node, const std::string& path, Problems& problems,
              std::string* out) {
  std::string s;
  if (!ReadString(node, path, problems, &s)) return false;
  if (s.empty() || s.find_first_of("[]{}") != std::string::npos) {
    problems.Add(
        node, path,
        absl::StrCat("must be a name or a pattern with * and ? (no [ ] { }), got ", Shown(node)));
    return false;
  }
  *out = std::move(s);
  return true;
}

std::string DurationText(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  return absl::FormatDuration(d);
}

bool ListNode(const YAML::Node& node, const std::string& path, size_t min_items,
              Problems& problems) {
  if (!node.IsSequence()) {
    problems.Add(
        node, path,
        node.IsNull() ? "has no value" : absl::StrCat("must be a list, got ", Shown(node)));
    return false;
  }
  if (node.size() < min_items) {
    problems.Add(node, path,
                 min_items == 1 ? std::string("must not be empty")
                                : absl::StrCat("needs at least ", min_items, " entries"));
    return false;
  }
  return true;
}

namespace {

// A secret's value: `node` itself, or (path ending in _file / _env) the file or variable it
// names. The value is never part of a problem.
bool ReadSecretValue(const YAML::Node& node, const std::string& path, Problems& problems,
                     std::string* out) {
  if (!node.IsScalar()) {
    problems.Add(node, path, node.IsNull() ? "has no value" : "must be a string");
    return false;
  }
  const std::string& given = node.Scalar();
  if (absl::EndsWith(path, "_file")) {
    // A secret is a line or a few (a token, a URL, a key): at most 64 KiB is read, so a wrong
    // path (a device, a log) is refused instead of read without end.
    constexpr size_t kMaxSecret = size_t{64} << 10;
    std::ifstream in(given, std::ios::binary);
    std::string value(kMaxSecret + 1, '\0');
    in.read(value.data(), static_cast<std::streamsize>(value.size()));
    value.resize(static_cast<size_t>(in.gcount()));
    if (value.size() > kMaxSecret) {
      problems.Add(node, path, absl::StrCat(given, " is larger than 64 KiB: not a secret"));
      return false;
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (in.bad() || value.empty()) {
      problems.Add(node, path, absl::StrCat("cannot read ", given, ", or it is empty"));
      return false;
    }
    *out = std::move(value);
  } else if (absl::EndsWith(path, "_env")) {
    const char* value = std::getenv(given.c_str());
    if (value == nullptr || *value == '\0') {
      problems.Add(node, path, absl::StrCat("environment variable ", given, " is not set"));
      return false;
    }
    *out = value;
  } else {
    *out = given;
  }
  return true;
}

}  // namespace

void ReadStringMap(const YAML::Node& node, const std::string& path, Problems& problems,
                   const std::function<void(std::string, std::string)>& put, MapValues values) {
  if (!node.IsMap()) {
    problems.Add(node, path, absl::StrCat("must be a mapping of strings, got ", Shown(node)));
    return;
  }
  std::set<std::string> keys;
  std::map<std::string, std::string> given_as;  // NAME -> the key that gave it (NAME_file ...)
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (!keys.insert(key).second) {
      problems.Add(kv.first, Join(path, key), "given twice");
      continue;
    }
    std::string name = key, value;
    const bool by_reference = values == MapValues::kInlineFileOrEnv &&
                              (absl::EndsWith(key, "_file") || absl::EndsWith(key, "_env"));
    if (by_reference) name = key.substr(0, key.rfind('_'));
    if (auto [it, inserted] = given_as.emplace(name, key); !inserted) {
      problems.Add(kv.first, Join(path, key),
                   absl::StrCat("give only one of ", name, ", ", name, "_file, ", name, "_env"));
      continue;
    }
    if (by_reference ? ReadSecretValue(kv.second, Join(path, key), problems, &value)
                     : ReadString(kv.second, Join(path, key), problems, &value)) {
      put(std::move(name), std::move(value));
    }
  }
}

bool ReadSecret(const std::string& key, const YAML::Node& node, const std::string& path, Seen& seen,
                Problems& problems, std::string* out) {
  const std::string file_key = key + "_file", env_key = key + "_env";
  if (seen.has(key) + seen.has(file_key) + seen.has(env_key) > 1) {
    problems.Add(node, path, absl::StrCat("give only one of ", key, ", ", file_key, ", ", env_key));
    return false;
  }
  return ReadSecretValue(node, path, problems, out);
}

std::string ChoiceError(const std::vector<std::string>& names, const std::string& got) {
  std::string shown;
  for (char c : got.substr(0, 64)) shown += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return absl::StrCat("must be ", absl::StrJoin(names, ", "), "; got \"", shown, "\"");
}

YAML::Node LoadYaml(std::string_view text, Problems& problems) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    problems.Add(Problem{.line = e.mark.line + 1,
                         .column = e.mark.column + 1,
                         .message = absl::StrCat("not valid YAML: ", e.msg)});
    return YAML::Node();
  }
}

}  // namespace faultline::settings

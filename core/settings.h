// Declarative settings: each component declares its settings once, next to its code, as a
// Schema over its own plain struct (key, type, bounds, description; the default is the struct's
// own initializer). One reader walks a YAML mapping against the schemas and reports every
// problem in one pass, each with its line, column and key path: unknown keys, keys given twice,
// values of the wrong type or out of bounds, missing required keys. The same schemas print the
// configuration reference and a JSON Schema (core/settings_doc.h).
//
//   struct FleetSettings { int min_hosts = 3; absl::Duration window = absl::Minutes(5); };
//   const Schema<FleetSettings>& FleetSchema() {
//     static const auto* s = &(*new Schema<FleetSettings>("The same pool failing on ...")
//         .Integer("min_hosts", &FleetSettings::min_hosts, 2, 10000, "Hosts that must ...")
//         .Duration("window", &FleetSettings::window, Bound::kPositive, "How close ..."));
//     return *s;
//   }
//
// Secrets (Secret(), and the values of a StringMap read from files or the environment) are
// never echoed in a problem; URLs are shown as scheme://host only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace faultline::settings {

class SchemaBase;

// One problem in a configuration, at the node it is about.
struct Problem {
  int line = 0;  // 1-based; 0: not in the file
  int column = 0;
  std::string path;  // detect.iis_rapid_fail.overrides[0].interval
  std::string message;
  bool later = false;  // found after the reading (Problems::AddLater)
};

// The problems of one configuration, and where each of its keys stands: a problem found after the
// reading (when the service builds a detector or a sink from its settings) is placed at the key
// it is about, and all of them are reported together, in file order.
class Problems {
 public:
  void Add(const YAML::Node& at, std::string path, std::string message);
  void Add(Problem problem) { list_.push_back(std::move(problem)); }
  // A problem found after the reading, about the setting at `path`: placed at that key, or at the
  // nearest key around it that the file has. Left out when the reading reported a problem at
  // `path` or around it (a section that is not a mapping): one cause, one message. A message
  // that begins with one of `of`'s keys ("template: ...", as plugin factories write them) is
  // about that key.
  void AddLater(std::string_view path, std::string message, const SchemaBase* of = nullptr);
  // Whether the reading reported a problem at `path` or inside it (`around`: at it or around
  // it): a plugin whose settings have one is not built, its factory would only say it again.
  bool Has(std::string_view path, bool around = false) const;
  bool empty() const { return list_.empty(); }
  const std::vector<Problem>& list() const { return list_; }
  // kInvalidArgument with one "file:line:column: path: message" per line, in file order.
  absl::Status ToStatus(std::string_view file) const;

  // The reader records each key it meets (ReadMapping; a list's entries by their index path).
  void Saw(std::string path, const YAML::Node& key);

 private:
  std::vector<Problem> list_;
  std::map<std::string, std::pair<int, int>, std::less<>> keys_;  // line, column
};

// "a.b", "a[3]": the key paths problems name.
std::string Join(std::string_view path, std::string_view key);
std::string Index(std::string_view path, size_t i);

// scheme://host of a URL, for messages: never its path, query or user info (a webhook's path is
// often its credential).
std::string RedactUrl(std::string_view url);

enum class Kind {
  kString,
  kInteger,
  kBoolean,
  kDuration,
  kChoice,
  kList,     // of scalars
  kMap,      // of strings
  kSection,  // a nested mapping (nested)
  kSectionList,
  kVariantList,  // a list of mappings whose `type` picks the schema (variants)
};

// What the reference and the JSON Schema know of one setting.
struct FieldInfo {
  std::string key;
  Kind kind = Kind::kString;
  std::string type;  // for people: "duration", "integer", "list of event ids", ...
  std::string default_text;
  std::string description;
  std::optional<int64_t> min, max;
  std::vector<std::string> choices;
  size_t min_items = 0;
  bool required = false;
  bool secret = false;  // also accepted as KEY_file (a file's content) and KEY_env
  const SchemaBase* nested = nullptr;
  // kVariantList: the schema every entry shares, then one per type.
  std::vector<std::pair<std::string, const SchemaBase*>> variants;
};

// The keys read from one mapping, and where: for checks across keys.
class Seen {
 public:
  explicit Seen(const YAML::Node& map, std::string path) : map_(map), path_(std::move(path)) {}
  bool has(std::string_view key) const { return keys_.count(key) > 0; }
  // The node of `key`'s value, or the mapping when the key is absent.
  YAML::Node At(std::string_view key) const;
  const std::string& path() const { return path_; }
  void Mark(std::string key, YAML::Node value) { keys_.emplace(std::move(key), value); }

 private:
  YAML::Node map_;
  std::string path_;
  std::map<std::string, YAML::Node, std::less<>> keys_;
};

// Reports a problem about one key of the mapping a check runs on.
class Checker {
 public:
  Checker(const Seen& seen, Problems& problems)
      : seen_(seen), problems_(problems), read_(problems.list().size()) {}
  void Error(std::string_view key, std::string message);
  // A problem about something else than one key of this mapping (an entry of a list).
  void Add(Problem problem) { problems_.Add(std::move(problem)); }
  bool has(std::string_view key) const { return seen_.has(key); }

 private:
  const Seen& seen_;
  Problems& problems_;
  size_t read_;  // the problems found before the checks: the reader's
};

class SchemaBase {
 public:
  explicit SchemaBase(std::string description) : description_(std::move(description)) {}
  virtual ~SchemaBase() = default;
  SchemaBase(const SchemaBase&) = delete;
  SchemaBase& operator=(const SchemaBase&) = delete;

  const std::string& description() const { return description_; }
  const std::vector<FieldInfo>& fields() const { return infos_; }
  // A new object of the schema's struct, holding the defaults.
  virtual std::shared_ptr<void> New() const = 0;
  // Reads `value` into `target` (the schema's struct) when `key` is one of this schema's keys;
  // false when it is not.
  virtual bool ReadKey(void* target, std::string_view key, const YAML::Node& value,
                       const std::string& path, Seen& seen, Problems& problems) const = 0;
  // The checks across keys, once the mapping is read.
  virtual void Check(const void* target, const Seen& seen, Problems& problems) const = 0;
  // The setting `key` stands for (a secret's KEY_file and KEY_env stand for KEY); empty when
  // `key` is none of this schema's.
  virtual std::string_view KeyOf(std::string_view key) const = 0;

 protected:
  std::vector<FieldInfo> infos_;

 private:
  std::string description_;
};

// Reads mapping `node` into one or more (schema, object) parts: each key goes to the first part
// that has it. Unknown keys, keys given twice and missing required keys are problems. A null
// node (an empty section) keeps the defaults.
struct Part {
  const SchemaBase* schema;
  void* target;
};
void ReadMapping(const YAML::Node& node, const std::string& path, const std::vector<Part>& parts,
                 Problems& problems);

// How far down a duration may go.
enum class Bound { kAny, kNonNegative, kPositive };

// Where the values of a StringMap may come from. kInlineFileOrEnv: an entry NAME_file: PATH or
// NAME_env: VARIABLE gives NAME the file's content or the variable's value, as a Secret() does
// (librdkafka's sasl.password, ssl.key.password); at most one of NAME, NAME_file, NAME_env.
enum class MapValues { kInline, kInlineFileOrEnv };

// The scalar readers the schema uses; each reports its own problem and returns false.
bool ReadString(const YAML::Node& node, const std::string& path, Problems& problems,
                std::string* out);
bool ReadInteger(const YAML::Node& node, const std::string& path, int64_t min, int64_t max,
                 Problems& problems, int64_t* out);
bool ReadBool(const YAML::Node& node, const std::string& path, Problems& problems, bool* out);
bool ReadDuration(const YAML::Node& node, const std::string& path, Bound bound, Problems& problems,
                  absl::Duration* out);
// A `*`/`?` glob (case-insensitive): `[`, `]`, `{` and `}` are refused, they match nothing
// special here and are almost always a pattern written for another tool.
bool ReadGlob(const YAML::Node& node, const std::string& path, Problems& problems,
              std::string* out);
std::string DurationText(absl::Duration d);
std::string BoundText(Bound bound);

// Helpers of the templates below.
bool ListNode(const YAML::Node& node, const std::string& path, size_t min_items,
              Problems& problems);
void ReadStringMap(const YAML::Node& node, const std::string& path, Problems& problems,
                   const std::function<void(std::string, std::string)>& put,
                   MapValues values = MapValues::kInline);
bool ReadSecret(const std::string& key, const YAML::Node& node, const std::string& path, Seen& seen,
                Problems& problems, std::string* out);
std::string ChoiceError(const std::vector<std::string>& names, const std::string& got);

// One entry of a list of settings per name pattern (a detector's `overrides:`, read by
// Schema::Overrides): the glob patterns its names must match, and the settings it gives; the
// others keep the section's (resolved by detect/overrides.h).
template <typename V, size_t N>
struct Override {
  std::array<std::string, N> patterns;  // `*`/`?` globs; "*" where the entry names none
  V values;                             // read with V's schema; only `keys` count
  std::vector<std::string> keys;        // the settings of V the entry gives
};

// clang-tidy 14 reports every by-value parameter below as "only used as a const reference": it
// does not see the moves inside the designated initializers of the dependent Add() calls.
// NOLINTBEGIN(performance-unnecessary-value-param)
template <typename T>
class Schema final : public SchemaBase {
 public:
  using Read =
      std::function<void(T&, const YAML::Node&, const std::string& path, Seen&, Problems&)>;
  // Copies one setting from one object to another (an override's over the section's).
  using Copy = std::function<void(const T& from, T& to)>;

  explicit Schema(std::string description) : SchemaBase(std::move(description)) {}

  std::shared_ptr<void> New() const override { return std::make_shared<T>(); }

  // The general form: `info` for the reference, `read` for the value, under `info.key` and any of
  // `also` (a secret's _file and _env); `copy`, when the setting can be overridden.
  Schema& Add(FieldInfo info, Read read, std::vector<std::string> also = {}, Copy copy = nullptr) {
    std::vector<std::string> keys = {info.key};
    keys.insert(keys.end(), also.begin(), also.end());
    fields_.push_back({std::move(keys), std::move(read), std::move(copy)});
    infos_.push_back(std::move(info));
    return *this;
  }

  Schema& String(std::string key, std::string T::*m, std::string doc, bool required = false) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kString,
         .type = "string",
         .default_text = Quoted(T{}.*m),
         .description = std::move(doc),
         .required = required},
        [m, required](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          // A required string must also say something.
          if (ReadString(n, p, pr, &(t.*m)) && required && (t.*m).empty()) {
            pr.Add(n, p, "must not be empty");
          }
        },
        {}, Copier(m));
  }

  Schema& Glob(std::string key, std::string T::*m, std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kString,
         .type = "glob",
         .default_text = Quoted(T{}.*m),
         .description = std::move(doc)},
        [m](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          ReadGlob(n, p, pr, &(t.*m));
        },
        {}, Copier(m));
  }

  template <typename Int>
  Schema& Integer(std::string key, Int T::*m, int64_t min, int64_t max, std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kInteger,
         .type = "integer",
         .default_text = std::to_string(T{}.*m),
         .description = std::move(doc),
         .min = min,
         .max = max},
        [m, min, max](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          int64_t v;
          if (ReadInteger(n, p, min, max, pr, &v)) t.*m = static_cast<Int>(v);
        },
        {}, Copier(m));
  }

  // An override: absent means "the section's own value".
  template <typename Int>
  Schema& Integer(std::string key, std::optional<Int> T::*m, int64_t min, int64_t max,
                  std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kInteger,
         .type = "integer",
         .description = std::move(doc),
         .min = min,
         .max = max},
        [m, min, max](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          int64_t v;
          if (ReadInteger(n, p, min, max, pr, &v)) t.*m = static_cast<Int>(v);
        },
        {}, Copier(m));
  }

  Schema& Duration(std::string key, absl::Duration T::*m, Bound bound, std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kDuration,
         .type = DurationType(bound),
         .default_text = DurationText(T{}.*m),
         .description = std::move(doc)},
        [m, bound](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          ReadDuration(n, p, bound, pr, &(t.*m));
        },
        {}, Copier(m));
  }

  Schema& Duration(std::string key, std::optional<absl::Duration> T::*m, Bound bound,
                   std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kDuration,
         .type = DurationType(bound),
         .description = std::move(doc)},
        [m, bound](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          absl::Duration d;
          if (ReadDuration(n, p, bound, pr, &d)) t.*m = d;
        },
        {}, Copier(m));
  }

  Schema& Bool(std::string key, bool T::*m, std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kBoolean,
         .type = "boolean",
         .default_text = T{}.*m ? "true" : "false",
         .description = std::move(doc)},
        [m](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          ReadBool(n, p, pr, &(t.*m));
        },
        {}, Copier(m));
  }

  // One of a few names, each standing for a value of V.
  template <typename V>
  Schema& Choice(std::string key, V T::*m, std::vector<std::pair<std::string, V>> choices,
                 std::string doc) {
    FieldInfo info{.key = std::move(key),
                   .kind = Kind::kChoice,
                   .type = "choice",
                   .description = std::move(doc)};
    for (const auto& [name, value] : choices) {
      info.choices.push_back(name);
      if (value == T{}.*m) info.default_text = name;
    }
    std::vector<std::string> names = info.choices;
    return Add(
        std::move(info),
        [m, choices, names](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          std::string text;
          if (!ReadString(n, p, pr, &text)) return;
          for (const auto& [name, value] : choices) {
            if (name == text) {
              t.*m = value;
              return;
            }
          }
          pr.Add(n, p, ChoiceError(names, text));
        },
        {}, Copier(m));
  }

  // A string checked and converted by `parse`, which returns an empty string or what is wrong.
  template <typename V>
  Schema& Parsed(std::string key, V T::*m, std::string type, std::string default_text,
                 std::function<std::string(const std::string&, V*)> parse, std::string doc) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kString,
         .type = std::move(type),
         .default_text = std::move(default_text),
         .description = std::move(doc)},
        [m, parse](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          std::string text;
          if (!ReadString(n, p, pr, &text)) return;
          if (std::string why = parse(text, &(t.*m)); !why.empty()) pr.Add(n, p, why);
        },
        {}, Copier(m));
  }

  // A string or a list of strings.
  Schema& StringList(std::string key, std::vector<std::string> T::*m, std::string doc,
                     size_t min_items = 0) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kList,
         .type = "list of strings",
         .default_text = JoinList(T{}.*m),
         .description = std::move(doc),
         .min_items = min_items},
        [m, min_items](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          std::vector<std::string> out;
          if (n.IsScalar()) {
            std::string s;
            if (ReadString(n, p, pr, &s)) out.push_back(std::move(s));
          } else if (ListNode(n, p, min_items, pr)) {
            for (size_t i = 0; i < n.size(); ++i) {
              std::string s;
              if (ReadString(n[i], Index(p, i), pr, &s)) out.push_back(std::move(s));
            }
          }
          t.*m = std::move(out);
        },
        {}, Copier(m));
  }

  template <typename Int>
  Schema& IntegerList(std::string key, std::vector<Int> T::*m, int64_t min, int64_t max,
                      std::string doc, size_t min_items = 0) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kList,
         .type = "list of integers",
         .default_text = JoinList(T{}.*m),
         .description = std::move(doc),
         .min = min,
         .max = max,
         .min_items = min_items},
        [m, min, max, min_items](T& t, const YAML::Node& n, const std::string& p, Seen&,
                                 Problems& pr) {
          if (!ListNode(n, p, min_items, pr)) return;
          std::vector<Int> out;
          for (size_t i = 0; i < n.size(); ++i) {
            int64_t v;
            if (ReadInteger(n[i], Index(p, i), min, max, pr, &v)) {
              out.push_back(static_cast<Int>(v));
            }
          }
          t.*m = std::move(out);
        },
        {}, Copier(m));
  }

  // A mapping of strings to strings (labels, headers, librdkafka properties); with
  // MapValues::kInlineFileOrEnv, an entry's value may come from a file or the environment.
  template <typename MapLike>
  Schema& StringMap(std::string key, MapLike T::*m, std::string doc,
                    MapValues values = MapValues::kInline) {
    if (values == MapValues::kInlineFileOrEnv) {
      doc +=
          " A value may come from a file (NAME_file: PATH, its content without the trailing "
          "newline) or the environment (NAME_env: VARIABLE) instead, for a secret (NAME: "
          "sasl.password, ssl.key.password): it is then in no message.";
    }
    return Add(
        {.key = std::move(key),
         .kind = Kind::kMap,
         .type = "mapping of strings",
         .description = std::move(doc)},
        [m, values](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          ReadStringMap(
              n, p, pr,
              [&](std::string k, std::string v) {
                (t.*m).insert((t.*m).end(), {std::move(k), std::move(v)});
              },
              values);
        },
        {}, Copier(m));
  }

  // A secret: given inline as KEY, or as KEY_file (the file's content, trailing newline
  // stripped) or KEY_env (an environment variable's value); at most one of the three. Its value
  // appears in no message.
  Schema& Secret(std::string key, std::string T::*m, std::string doc, bool required = false) {
    std::vector<std::string> also = {key + "_file", key + "_env"};
    Add(
        {.key = key,
         .kind = Kind::kString,
         .type = "secret",
         .description = std::move(doc),
         .required = required,
         .secret = true},
        [m, key, required](T& t, const YAML::Node& n, const std::string& p, Seen& seen,
                           Problems& pr) {
          // p ends in the key given: KEY, _file, _env.
          if (ReadSecret(key, n, p, seen, pr, &(t.*m)) && required && (t.*m).empty()) {
            pr.Add(n, p, "must not be empty");
          }
        },
        std::move(also), Copier(m));
    return *this;
  }

  template <typename U>
  Schema& Section(std::string key, U T::*m, const Schema<U>& schema) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kSection,
         .type = "section",
         .description = schema.description(),
         .nested = &schema},
        [m, &schema](T& t, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
          ReadMapping(n, p, {{&schema, &(t.*m)}}, pr);
        },
        {}, Copier(m));
  }

  template <typename U>
  Schema& List(std::string key, std::vector<U> T::*m, const Schema<U>& item, std::string doc,
               size_t min_items = 0) {
    return Add(
        {.key = std::move(key),
         .kind = Kind::kSectionList,
         .type = "list",
         .description = std::move(doc),
         .min_items = min_items,
         .nested = &item},
        [m, &item, min_items](T& t, const YAML::Node& n, const std::string& p, Seen&,
                              Problems& pr) {
          if (!ListNode(n, p, min_items, pr)) return;
          std::vector<U> out(n.size());
          for (size_t i = 0; i < n.size(); ++i) {
            if (!n[i].IsMap()) {  // an empty entry would match everything
              pr.Add(n[i], Index(p, i), "must be a mapping");
              continue;
            }
            ReadMapping(n[i], Index(p, i), {{&item, &out[i]}}, pr);
          }
          t.*m = std::move(out);
        },
        {}, Copier(m));
  }

  // The settings of `schema`, written in this mapping as if they were this schema's own
  // (HTTP timeouts in every HTTP sink).
  template <typename U>
  Schema& Inline(U T::*m, const Schema<U>& schema) {
    for (size_t i = 0; i < schema.fields_.size(); ++i) {
      const auto& field = schema.fields_[i];
      Copy copy;
      if (field.copy) {
        copy = [m, inner = field.copy](const T& from, T& to) { inner(from.*m, to.*m); };
      }
      fields_.push_back({field.keys,
                         [m, read = field.read](T& t, const YAML::Node& n, const std::string& p,
                                                Seen& s, Problems& pr) { read(t.*m, n, p, s, pr); },
                         std::move(copy)});
      infos_.push_back(schema.infos_[i]);
    }
    for (const auto& check : schema.checks_) {
      checks_.push_back([m, check](const T& t, Checker& c) { check(t.*m, c); });
    }
    return *this;
  }

  // The settings of `schema` written in this mapping, each one given replacing the section
  // `over`'s (a sink's queue settings over delivery's): read into `m`, their keys listed in
  // `given` for schema.CopyKeys; the schema's checks are the caller's, on the resolved values.
  template <typename U>
  Schema& Overriding(U T::*m, std::vector<std::string> T::*given, const Schema<U>& schema,
                     const std::string& over) {
    for (size_t i = 0; i < schema.fields_.size(); ++i) {
      const auto& field = schema.fields_[i];
      fields_.push_back(
          {field.keys, [m, given, key = field.keys.front(), read = field.read](
                           T& t, const YAML::Node& n, const std::string& p, Seen& s, Problems& pr) {
             read(t.*m, n, p, s, pr);
             (t.*given).push_back(key);
           }});
      FieldInfo info = schema.infos_[i];
      info.default_text = "";  // the section's
      info.description += " Default: " + Join(over, info.key) + ".";
      infos_.push_back(std::move(info));
    }
    return *this;
  }

  // Settings per name pattern (a detector's `overrides:`): a list of mappings, each with the glob
  // patterns `patterns` names ({key, description}; "*" when absent) and any of the settings of
  // `values`, at least one. Resolved by whoever uses the list (detect/overrides.h): the first
  // entry whose patterns all match wins; the settings it gives replace the section's.
  template <typename V, size_t N>
  Schema& Overrides(std::string key, std::vector<Override<V, N>> T::*m,
                    const std::array<std::pair<std::string, std::string>, N>& patterns,
                    const Schema<V>& values, std::string doc) {
    using O = Override<V, N>;
    auto* entry = new Schema<O>(
        "The settings for the names matching every pattern; the first matching entry wins, "
        "the settings it does not give keep the section's.");
    for (size_t i = 0; i < N; ++i) {
      entry->Add({.key = patterns[i].first,
                  .kind = Kind::kString,
                  .type = "glob",
                  .default_text = "\"*\"",
                  .description = patterns[i].second},
                 [i](O& o, const YAML::Node& n, const std::string& p, Seen&, Problems& pr) {
                   ReadGlob(n, p, pr, &o.patterns[i]);
                 });
    }
    std::vector<std::string> names;
    for (size_t i = 0; i < values.fields_.size(); ++i) {
      const auto& field = values.fields_[i];
      entry->fields_.push_back(
          {field.keys, [read = field.read](O& o, const YAML::Node& n, const std::string& p, Seen& s,
                                           Problems& pr) { read(o.values, n, p, s, pr); }});
      FieldInfo info = values.infos_[i];
      info.default_text = "";  // the section's
      info.description = "As in the section.";
      entry->infos_.push_back(std::move(info));
      names.push_back(values.infos_[i].key);
    }
    const std::string first = patterns[0].first;
    return Add({.key = std::move(key),
                .kind = Kind::kSectionList,
                .type = "list",
                .description = std::move(doc),
                .nested = entry},
               [m, entry, &values, names, first](T& t, const YAML::Node& n, const std::string& p,
                                                 Seen&, Problems& pr) {
                 if (!ListNode(n, p, 0, pr)) return;
                 std::vector<O> out(n.size());
                 for (size_t i = 0; i < n.size(); ++i) {
                   O& o = out[i];
                   o.patterns.fill("*");
                   if (!n[i].IsMap()) {  // an empty entry would match everything
                     pr.Add(n[i], Index(p, i), "must be a mapping");
                     continue;
                   }
                   ReadMapping(n[i], Index(p, i), {{entry, &o}}, pr);
                   for (const auto& kv : n[i]) {
                     if (!kv.first.IsScalar()) continue;
                     if (std::string_view k = values.KeyOf(kv.first.Scalar()); !k.empty()) {
                       o.keys.emplace_back(k);
                     }
                   }
                   if (o.keys.empty()) {
                     pr.Add(n[i], Join(Index(p, i), first),
                            "the override sets none of " + JoinNames(names));
                   }
                 }
                 t.*m = std::move(out);
               });
  }

  // Copies the settings named in `keys` from `from` to `to` (an override's onto the section's).
  void CopyKeys(const T& from, T& to, const std::vector<std::string>& keys) const {
    for (const auto& field : fields_) {
      for (const std::string& k : keys) {
        if (k == field.keys.front() && field.copy) field.copy(from, to);
      }
    }
  }

  // A rule across keys, run once the mapping is read: report with checker.Error(key, why).
  Schema& Check(std::function<void(const T&, Checker&)> check) {
    checks_.push_back(std::move(check));
    return *this;
  }

  bool ReadKey(void* target, std::string_view key, const YAML::Node& value, const std::string& path,
               Seen& seen, Problems& problems) const override {
    for (const auto& field : fields_) {
      for (const auto& k : field.keys) {
        if (k != key) continue;
        field.read(*static_cast<T*>(target), value, Join(path, key), seen, problems);
        return true;
      }
    }
    return false;
  }

  void Check(const void* target, const Seen& seen, Problems& problems) const override {
    Checker checker(seen, problems);
    for (const auto& check : checks_) check(*static_cast<const T*>(target), checker);
  }

  std::string_view KeyOf(std::string_view key) const override {
    for (const auto& field : fields_) {
      for (const auto& k : field.keys) {
        if (k == key) return field.keys.front();
      }
    }
    return {};
  }

 private:
  template <typename>
  friend class Schema;
  struct Field {
    std::vector<std::string> keys;  // the setting's, then its aliases (a secret's _file, _env)
    Read read;
    Copy copy;  // null: cannot be overridden
  };

  template <typename M>
  static Copy Copier(M T::*m) {
    return [m](const T& from, T& to) { to.*m = from.*m; };
  }
  static std::string JoinNames(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  static std::string Quoted(const std::string& s) { return s.empty() ? "" : "\"" + s + "\""; }
  template <typename V>
  static std::string JoinList(const std::vector<V>& items) {
    std::string out;
    for (const auto& v : items) {
      if (!out.empty()) out += ", ";
      if constexpr (std::is_same_v<V, std::string>) {
        out += v;
      } else {
        out += std::to_string(v);
      }
    }
    return out.empty() ? "" : "[" + out + "]";
  }
  static std::string DurationType(Bound bound) {
    return bound == Bound::kAny ? "duration" : "duration, " + BoundText(bound);
  }

  std::vector<Field> fields_;
  std::vector<std::function<void(const T&, Checker&)>> checks_;
};

// NOLINTEND(performance-unnecessary-value-param)

// A plugin's settings, whose type only its schema knows: the object the schema read (or made,
// with the defaults), tagged with that schema, so that it is read back only as that schema's
// type (a factory registered with another schema gets null, not a wrong cast).
class AnySettings {
 public:
  AnySettings() = default;
  AnySettings(const SchemaBase& schema, std::shared_ptr<const void> value)
      : schema_(&schema), value_(std::move(value)) {}
  // The defaults of `schema`.
  explicit AnySettings(const SchemaBase& schema) : AnySettings(schema, schema.New()) {}

  const SchemaBase* schema() const { return schema_; }
  // The settings as `schema`'s type; null when another schema made them (or none did).
  template <typename T>
  const T* As(const Schema<T>& schema) const {
    return schema_ == &schema ? static_cast<const T*>(value_.get()) : nullptr;
  }

 private:
  const SchemaBase* schema_ = nullptr;
  std::shared_ptr<const void> value_;
};

// A plugin factory that takes its typed settings, made callable with AnySettings (what the
// registries hold): settings made by another schema than `schema` are an error, never a cast.
template <typename T, typename Result, typename Context>
std::function<Result(const AnySettings&, const Context&)> WithSettingsOf(
    const Schema<T>& schema, std::function<Result(const T&, const Context&)> factory) {
  return [&schema, factory = std::move(factory)](const AnySettings& s,
                                                 const Context& context) -> Result {
    const T* typed = s.As(schema);
    if (typed == nullptr) return absl::InternalError("settings read by another schema");
    return factory(*typed, context);
  };
}

// Reads a whole YAML document: its syntax errors, then ReadMapping's, as one Problems.
YAML::Node LoadYaml(std::string_view text, Problems& problems);

}  // namespace faultline::settings

// A sink's configuration as written under `sinks:` in YAML (SinkSpec), and SinkOptions, the
// reader a sink's factory validates it with: every option is read with its type, unknown
// options and every bad value are reported together, each naming the option.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace faultline {

// One option's value: a string, a list of strings, or a map of strings.
struct OptionValue {
  enum class Kind { kScalar, kList, kMap };
  Kind kind = Kind::kScalar;
  std::string scalar;
  std::vector<std::string> list;
  std::map<std::string, std::string> map;

  OptionValue() = default;
  OptionValue(const char* s) : scalar(s) {}             // NOLINT(google-explicit-constructor)
  OptionValue(std::string s) : scalar(std::move(s)) {}  // NOLINT(google-explicit-constructor)
  static OptionValue List(std::vector<std::string> items) {
    OptionValue v;
    v.kind = Kind::kList;
    v.list = std::move(items);
    return v;
  }
  static OptionValue Map(std::map<std::string, std::string> items) {
    OptionValue v;
    v.kind = Kind::kMap;
    v.map = std::move(items);
    return v;
  }
};

struct SinkSpec {
  std::string type;
  std::map<std::string, OptionValue> options;
};

class SinkOptions {
 public:
  explicit SinkOptions(SinkSpec spec) : spec_(std::move(spec)) {}

  const std::string& type() const { return spec_.type; }
  bool has(std::string_view name) const;

  // Each reader marks `name` as known and returns `fallback` when the option is absent; a value
  // of the wrong shape is recorded as an error (see Finish) and `fallback` returned.
  std::string String(std::string_view name, std::string fallback = "");
  std::string Choice(std::string_view name, std::string fallback,
                     std::initializer_list<std::string_view> allowed);
  int64_t Integer(std::string_view name, int64_t fallback, int64_t min, int64_t max);
  bool Bool(std::string_view name, bool fallback);
  // A duration such as 500ms, 10s or 5m; must be positive unless `allow_zero`.
  absl::Duration Duration(std::string_view name, absl::Duration fallback, bool allow_zero = false);
  // A string or a list of strings.
  std::vector<std::string> List(std::string_view name);
  std::map<std::string, std::string> Map(std::string_view name);
  // The content of the file that option `file_option` names; an error naming the file (and an
  // empty string) when it cannot be read. Empty when the option is absent.
  std::string FileText(std::string_view file_option);
  // A secret, given as `name` itself, `name_file` (a file whose content, trailing newline
  // stripped, is the value) or `name_env` (an environment variable): at most one of them.
  // Empty when none is given (an error if `required`).
  std::string Secret(std::string_view name, bool required);

  void Error(std::string_view name, absl::string_view message);
  // OK, or kInvalidArgument listing every error and every unknown option:
  //   sink webhook: url: required; colour: unknown option (known: format, url, ...)
  absl::Status Finish() const;

 private:
  const OptionValue* Find(std::string_view name);
  const std::string* Scalar(std::string_view name);

  const SinkSpec spec_;
  std::set<std::string, std::less<>> known_;
  std::vector<std::string> errors_;
};

}  // namespace faultline

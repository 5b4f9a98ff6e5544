#include "sinks/options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/strings.h"

namespace faultline {

bool SinkOptions::has(std::string_view name) const {
  return spec_.options.find(std::string(name)) != spec_.options.end();
}

const OptionValue* SinkOptions::Find(std::string_view name) {
  known_.insert(std::string(name));
  auto it = spec_.options.find(std::string(name));
  return it == spec_.options.end() ? nullptr : &it->second;
}

const std::string* SinkOptions::Scalar(std::string_view name) {
  const OptionValue* v = Find(name);
  if (v == nullptr) return nullptr;
  if (v->kind != OptionValue::Kind::kScalar) {
    Error(name, "must be a single value");
    return nullptr;
  }
  return &v->scalar;
}

std::string SinkOptions::String(std::string_view name, std::string fallback) {
  const std::string* v = Scalar(name);
  return v ? *v : fallback;
}

std::string SinkOptions::Choice(std::string_view name, std::string fallback,
                                std::initializer_list<std::string_view> allowed) {
  const std::string* v = Scalar(name);
  if (v == nullptr) return fallback;
  for (std::string_view a : allowed) {
    if (*v == a) return *v;
  }
  std::vector<std::string> names;
  for (std::string_view a : allowed) names.emplace_back(a);
  Error(name, absl::StrCat("must be ", absl::StrJoin(names, " or "), ", got \"", *v, "\""));
  return fallback;
}

int64_t SinkOptions::Integer(std::string_view name, int64_t fallback, int64_t min, int64_t max) {
  const std::string* v = Scalar(name);
  if (v == nullptr) return fallback;
  int64_t n;
  if (!absl::SimpleAtoi(ToAbsl(*v), &n) || n < min || n > max) {
    Error(name,
          absl::StrCat("must be a whole number from ", min, " to ", max, ", got \"", *v, "\""));
    return fallback;
  }
  return n;
}

bool SinkOptions::Bool(std::string_view name, bool fallback) {
  const std::string* v = Scalar(name);
  if (v == nullptr) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  Error(name, absl::StrCat("must be true or false, got \"", *v, "\""));
  return fallback;
}

absl::Duration SinkOptions::Duration(std::string_view name, absl::Duration fallback,
                                     bool allow_zero) {
  const std::string* v = Scalar(name);
  if (v == nullptr) return fallback;
  absl::Duration d;
  if (!absl::ParseDuration(ToAbsl(*v), &d) || d < absl::ZeroDuration() ||
      (d == absl::ZeroDuration() && !allow_zero)) {
    Error(name, absl::StrCat("must be a ", allow_zero ? "" : "positive ",
                             "duration such as 500ms, 10s or 5m, got \"", *v, "\""));
    return fallback;
  }
  return d;
}

std::vector<std::string> SinkOptions::List(std::string_view name) {
  const OptionValue* v = Find(name);
  if (v == nullptr) return {};
  if (v->kind == OptionValue::Kind::kScalar) return {v->scalar};
  if (v->kind == OptionValue::Kind::kList) return v->list;
  Error(name, "must be a string or a list of strings");
  return {};
}

std::map<std::string, std::string> SinkOptions::Map(std::string_view name) {
  const OptionValue* v = Find(name);
  if (v == nullptr) return {};
  if (v->kind != OptionValue::Kind::kMap) {
    Error(name, "must be a mapping of strings");
    return {};
  }
  return v->map;
}

std::string SinkOptions::FileText(std::string_view file_option) {
  const std::string path = String(file_option);
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    Error(file_option, absl::StrCat("cannot read ", path));
    return "";
  }
  return text.str();
}

std::string SinkOptions::Secret(std::string_view name, bool required) {
  const std::string file_key = absl::StrCat(ToAbsl(name), "_file");
  const std::string env_key = absl::StrCat(ToAbsl(name), "_env");
  const std::string inline_value = String(name);
  const std::string file = String(file_key);
  const std::string env = String(env_key);
  const int given = has(name) + has(file_key) + has(env_key);
  if (given > 1) {
    Error(name, absl::StrCat("give only one of ", ToAbsl(name), ", ", file_key, ", ", env_key));
    return "";
  }
  if (has(file_key)) {
    std::string value = FileText(file_key);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) Error(file_key, absl::StrCat(file, " is empty or unreadable"));
    return value;
  }
  if (has(env_key)) {
    const char* value = std::getenv(env.c_str());
    if (value == nullptr || *value == '\0') {
      Error(env_key, absl::StrCat("environment variable ", env, " is not set"));
      return "";
    }
    return value;
  }
  if (required && !has(name)) {
    Error(name, absl::StrCat("required (or ", file_key, " / ", env_key, ")"));
  }
  return inline_value;
}

void SinkOptions::Error(std::string_view name, absl::string_view message) {
  errors_.push_back(absl::StrCat(ToAbsl(name), ": ", message));
}

absl::Status SinkOptions::Finish() const {
  std::vector<std::string> errors = errors_;
  for (const auto& [name, value] : spec_.options) {
    if (known_.count(name) == 0) {
      errors.push_back(
          absl::StrCat(name, ": unknown option (known: ", absl::StrJoin(known_, ", "), ")"));
    }
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("sink ", spec_.type, ": ", absl::StrJoin(errors, "; ")));
}

}  // namespace faultline

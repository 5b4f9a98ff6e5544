#include "app/flags.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"

namespace faultline {
namespace {

constexpr char kUsagePayload[] = "faultline/usage";
constexpr size_t kColumns = 100;

// `text` wrapped at kColumns, every line after the first indented by `indent`, the first
// starting at column `indent` too.
std::string Wrap(std::string_view text, size_t indent) {
  std::string out;
  size_t column = indent;
  for (absl::string_view word : absl::StrSplit(ToAbsl(text), ' ', absl::SkipEmpty())) {
    if (column > indent && column + 1 + word.size() > kColumns) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
  }
  return out;
}

std::string Signature(const Flag& f) {
  return f.value.empty() ? f.name : absl::StrCat(f.name, " ", f.value);
}

}  // namespace

Flag StringFlag(std::string name, std::string value, std::string help, std::string* out) {
  return {std::move(name), std::move(value), std::move(help), [out](const std::string& v) {
            *out = v;
            return absl::OkStatus();
          }};
}

Flag ListFlag(std::string name, std::string value, std::string help,
              std::vector<std::string>* out) {
  return {std::move(name), std::move(value), std::move(help), [out](const std::string& v) {
            out->push_back(v);
            return absl::OkStatus();
          }};
}

Flag SwitchFlag(std::string name, std::string help, bool* out) {
  return {std::move(name), "", std::move(help), [out](const std::string&) {
            *out = true;
            return absl::OkStatus();
          }};
}

Flag ChoiceFlag(std::string name, std::vector<std::string> choices, std::string help,
                std::string* out) {
  std::string value = absl::StrJoin(choices, "|");
  return {std::move(name), std::move(value), std::move(help),
          [out, choices = std::move(choices)](const std::string& v) {
            if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
              return absl::InvalidArgumentError(
                  absl::StrCat("must be ", absl::StrJoin(choices, " or "), ", got \"", v, "\""));
            }
            *out = v;
            return absl::OkStatus();
          }};
}

Flag DurationFlag(std::string name, std::string value, std::string help, absl::Duration* out) {
  return {std::move(name), std::move(value), std::move(help), [out](const std::string& v) {
            if (!absl::ParseDuration(v, out)) {
              return absl::InvalidArgumentError(absl::StrCat("not a duration: ", v));
            }
            return absl::OkStatus();
          }};
}

std::string Usage(const CommandLine& c) {
  std::string out = absl::StrCat("Usage: faultline ", c.command, " ", c.synopsis, "\n");
  if (!c.description.empty()) absl::StrAppend(&out, "\n", c.description);
  if (!c.description.empty() && c.description.back() != '\n') out += '\n';
  std::vector<Flag> flags = c.flags;
  flags.push_back({.name = "--help", .help = "This text."});
  size_t width = 0;
  for (const Flag& f : flags) width = std::max(width, Signature(f).size());
  absl::StrAppend(&out, "\nOptions:\n");
  for (const Flag& f : flags) {
    const std::string signature = Signature(f);
    absl::StrAppend(&out, "  ", signature, std::string(width - signature.size() + 2, ' '),
                    Wrap(f.help, width + 4), "\n");
  }
  return out;
}

bool WantsHelp(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(),
                     [](const std::string& a) { return a == "--help" || a == "-h"; });
}

absl::Status ParseCommandLine(const CommandLine& c, const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool is_flag = a.size() > 1 && a[0] == '-';
    if (!is_flag) {
      if (!c.operand) return UsageError(absl::StrCat("unexpected argument ", a));
      if (absl::Status s = c.operand(a); !s.ok()) return UsageError(ToStd(s.message()));
      continue;
    }
    const auto flag =
        std::find_if(c.flags.begin(), c.flags.end(), [&](const Flag& f) { return f.name == a; });
    if (flag == c.flags.end()) return UsageError(absl::StrCat("unknown option ", a));
    std::string value;
    if (!flag->value.empty()) {
      if (i + 1 >= args.size()) {
        return UsageError(absl::StrCat(flag->name, " needs ", flag->value));
      }
      value = args[++i];
    }
    if (absl::Status s = flag->set(value); !s.ok()) {
      return UsageError(absl::StrCat(flag->name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status UsageError(std::string_view message) {
  absl::Status status = absl::InvalidArgumentError(ToAbsl(message));
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

}  // namespace faultline

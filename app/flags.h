// A command's command line as a table: each flag is declared once (its name, the name of its
// value, what it does, what to do with it) and the same table parses the arguments and prints
// the usage, so `--help` can never fall behind the flags a command takes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace faultline {

struct Flag {
  std::string name;   // "--config"
  std::string value;  // "FILE": the flag takes a value; empty: a switch
  std::string help;   // one sentence or two; wrapped in the usage
  // Takes the value ("" for a switch). An error is a usage error naming the flag.
  std::function<absl::Status(const std::string& value)> set;
};

// The usual flags: a value kept as given, a value that may be repeated, a switch.
Flag StringFlag(std::string name, std::string value, std::string help, std::string* out);
Flag ListFlag(std::string name, std::string value, std::string help, std::vector<std::string>* out);
Flag SwitchFlag(std::string name, std::string help, bool* out);
// One of `choices`, its value shown as "a|b" in the usage.
Flag ChoiceFlag(std::string name, std::vector<std::string> choices, std::string help,
                std::string* out);
// A duration as absl::ParseDuration reads it (30s, 5m, 0).
Flag DurationFlag(std::string name, std::string value, std::string help, absl::Duration* out);

struct CommandLine {
  std::string command;      // "replay"
  std::string synopsis;     // "FILE... [--config FILE] [--format json|text]"
  std::string description;  // paragraphs, as printed under the usage line
  std::vector<Flag> flags;
  // Takes each argument that is not a flag; null: the command takes none.
  std::function<absl::Status(const std::string& operand)> operand;
};

// "Usage: faultline COMMAND SYNOPSIS", the description, and the flags with their help.
std::string Usage(const CommandLine& command_line);

// True when `args` asks for the usage (--help or -h anywhere).
bool WantsHelp(const std::vector<std::string>& args);

// Hands each argument to its flag's or the operand's setter, in order. The first problem is
// returned as a usage error: an unknown flag, a missing value, a setter's refusal.
absl::Status ParseCommandLine(const CommandLine& command_line,
                              const std::vector<std::string>& args);

// A status saying the command was called wrongly: the usage is printed with it, exit code 2.
absl::Status UsageError(std::string_view message);
bool IsUsageError(const absl::Status& status);

}  // namespace faultline

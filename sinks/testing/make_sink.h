// Builds one sink the way the configuration does (its entry read through the registry with the
// type's schema, so unknown and bad options are reported the same way), for the sinks' tests.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "sinks/registry.h"

namespace faultline::testing {

// One option as a YAML file writes it: a string, a list of strings or a map of strings.
struct OptionValue {
  YAML::Node node;
  OptionValue(const char* s) : node(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  OptionValue(std::string s) : node(std::move(s)) {}    // NOLINT(google-explicit-constructor)
  static OptionValue List(const std::vector<std::string>& items) {
    OptionValue v("");
    v.node = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& item : items) v.node.push_back(item);
    return v;
  }
  static OptionValue Map(const std::map<std::string, std::string>& items) {
    OptionValue v("");
    v.node = YAML::Node(YAML::NodeType::Map);
    for (const auto& [k, value] : items) v.node[k] = value;
    return v;
  }
};

// The entry `{type: TYPE, options...}` read with `schema` and built by `factory`.
template <typename S>
absl::StatusOr<std::unique_ptr<Sink>> MakeSink(
    const std::string& type, const settings::Schema<S>& schema,
    std::type_identity_t<SinkRegistry::Factory<S>> factory,
    const std::map<std::string, OptionValue>& options, const SinkContext& ctx = {}) {
  SinkRegistry registry;
  registry.Register(type, schema, std::move(factory));
  YAML::Node entry(YAML::NodeType::Map);
  entry["type"] = type;
  for (const auto& [key, value] : options) entry[key] = value.node;
  YAML::Node list(YAML::NodeType::Sequence);
  list.push_back(entry);
  std::vector<SinkSpec> specs;
  settings::Problems problems;
  registry.ReadList(list, "sinks", &specs, problems);
  if (absl::Status s = problems.ToStatus(""); !s.ok()) return s;
  return registry.Create(specs.at(0), ctx);
}

}  // namespace faultline::testing

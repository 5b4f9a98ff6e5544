// Reads one component's section from YAML text with its schema, as the configuration file
// would: for the components' own tests of their settings.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/settings.h"

namespace faultline::testing {

template <typename S>
absl::StatusOr<S> ReadSettings(const settings::Schema<S>& schema, std::string_view yaml,
                               const std::string& path) {
  settings::Problems problems;
  YAML::Node node = settings::LoadYaml(yaml, problems);
  S out;
  if (problems.empty()) settings::ReadMapping(node, path, {{&schema, &out}}, problems);
  if (absl::Status s = problems.ToStatus(""); !s.ok()) return s;
  return out;
}

}  // namespace faultline::testing

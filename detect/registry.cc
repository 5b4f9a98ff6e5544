#include "detect/registry.h"

#include "absl/strings/str_join.h"

namespace faultline {

absl::StatusOr<std::vector<std::unique_ptr<Detector>>> DetectorRegistry::CreateAll(
    const DetectConfig& config) const {
  std::vector<std::unique_ptr<Detector>> detectors;
  std::vector<std::string> errors;
  for (const Entry& entry : entries()) {
    auto it = config.detectors.find(entry.name);
    absl::StatusOr<std::unique_ptr<Detector>> d = entry.create(
        it == config.detectors.end() ? settings::AnySettings(*entry.schema) : it->second,
        config.context);
    if (!d.ok()) {
      errors.push_back(absl::StrCat("detect.", entry.name, ": ", d.status().message()));
    } else if (*d != nullptr) {
      detectors.push_back(std::move(*d));
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return detectors;
}

const settings::SchemaBase& DetectorRegistry::DetectSchema() const {
  std::call_once(detect_schema_once_, [this] {
    detect_schema_ = NewDetectSchema();
    for (const Entry& entry : entries()) {
      const settings::SchemaBase* schema = entry.schema;
      detect_schema_->Add({.key = entry.name,
                           .kind = settings::Kind::kSection,
                           .type = "section",
                           .description = schema->description(),
                           .nested = schema},
                          [name = entry.name, schema](DetectConfig& d, const YAML::Node& node,
                                                      const std::string& path, settings::Seen&,
                                                      settings::Problems& problems) {
                            std::shared_ptr<void> s = schema->New();
                            settings::ReadMapping(node, path, {{schema, s.get()}}, problems);
                            d.detectors[name] = settings::AnySettings(*schema, std::move(s));
                          });
    }
  });
  return *detect_schema_;
}

}  // namespace faultline

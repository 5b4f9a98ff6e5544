#include "detect/registry.h"

#include "absl/strings/str_cat.h"

namespace faultline {

std::vector<std::unique_ptr<Detector>> DetectorRegistry::CreateAll(
    const DetectConfig& config, settings::Problems& problems) const {
  std::vector<std::unique_ptr<Detector>> detectors;
  for (const Entry& entry : entries()) {
    const std::string path = absl::StrCat("detect.", entry.name);
    if (problems.Has(path)) continue;  // said by the reader
    auto it = config.detectors.find(entry.name);
    absl::StatusOr<std::unique_ptr<Detector>> d = entry.create(
        it == config.detectors.end() ? settings::AnySettings(*entry.schema) : it->second,
        config.context);
    if (!d.ok()) {
      problems.AddLater(path, std::string(d.status().message()), entry.schema);
    } else if (*d != nullptr) {
      detectors.push_back(std::move(*d));
    }
  }
  return detectors;
}

absl::StatusOr<std::vector<std::unique_ptr<Detector>>> DetectorRegistry::CreateAll(
    const DetectConfig& config) const {
  settings::Problems problems;
  std::vector<std::unique_ptr<Detector>> detectors = CreateAll(config, problems);
  if (absl::Status s = problems.ToStatus(""); !s.ok()) return s;
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

#include "detect/registry.h"

#include "absl/strings/str_join.h"

namespace faultline {

void DetectorRegistry::Register(std::string name, Factory factory) {
  factories_.emplace_back(std::move(name), std::move(factory));
}

absl::StatusOr<std::vector<std::unique_ptr<Detector>>> DetectorRegistry::CreateAll(
    const DetectConfig& config) const {
  std::vector<std::unique_ptr<Detector>> detectors;
  std::vector<std::string> errors;
  for (const auto& [name, factory] : factories_) {
    absl::StatusOr<std::unique_ptr<Detector>> d = factory(config);
    if (!d.ok()) {
      errors.emplace_back(d.status().message());
    } else if (*d != nullptr) {
      detectors.push_back(std::move(*d));
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  return detectors;
}

}  // namespace faultline

// The detector plugins this build knows, by name. Filled by explicit calls from app/
// (RegisterBuiltinDetectors): greppable and ordered, no static self-registration.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "detect/config.h"
#include "detect/detector.h"

namespace faultline {

class DetectorRegistry {
 public:
  // Validates its section of DetectConfig; returns nullptr (not an error) when the config
  // disables the detector entirely.
  using Factory =
      std::function<absl::StatusOr<std::unique_ptr<Detector>>(const DetectConfig& config)>;

  void Register(std::string name, Factory factory);
  // Builds every registered detector in registration order. Errors of all detectors are
  // reported at once.
  absl::StatusOr<std::vector<std::unique_ptr<Detector>>> CreateAll(
      const DetectConfig& config) const;

 private:
  std::vector<std::pair<std::string, Factory>> factories_;
};

}  // namespace faultline

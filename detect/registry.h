// The detector plugins this build knows, by name, each with the schema of its settings. Filled
// by explicit calls from app/builtin.cc (one line per detector).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "core/plugin_registry.h"
#include "core/settings.h"
#include "detect/config.h"
#include "detect/detector.h"

namespace faultline {

// Detectors by their section name under `detect:` (core/plugin_registry.h): a factory returns
// nullptr (not an error) when its settings disable the detector.
class DetectorRegistry final : public PluginRegistry<Detector, DetectorContext> {
 public:
  // Builds every registered detector in registration order, each with its settings from
  // `config` (its defaults when absent). What a factory refuses is added to `problems` at its
  // section (detect.NAME), and that detector left out, as is one whose section the reader
  // found a problem in.
  std::vector<std::unique_ptr<Detector>> CreateAll(const DetectConfig& config,
                                                   settings::Problems& problems) const;
  // The same, every refusal in one error.
  absl::StatusOr<std::vector<std::unique_ptr<Detector>>> CreateAll(
      const DetectConfig& config) const;

  // The schema of the whole `detect:` section: the common keys and one section per detector,
  // read into DetectConfig::detectors.
  const settings::SchemaBase& DetectSchema() const;

 private:
  // Built once, on first use, after every Register (app/builtin.cc); the registry outlives it.
  mutable std::once_flag detect_schema_once_;
  mutable std::unique_ptr<settings::Schema<DetectConfig>> detect_schema_;
};

}  // namespace faultline

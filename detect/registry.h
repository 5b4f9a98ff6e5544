// The detector plugins this build knows, by name, each with the schema of its settings. Filled
// by explicit calls from app/builtin.cc (one line per detector): greppable and ordered, no
// static self-registration.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "core/settings.h"
#include "detect/config.h"
#include "detect/detector.h"

namespace faultline {

class DetectorRegistry {
 public:
  template <typename S>
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Detector>>(
      const S& settings, const DetectorContext& context)>;

  // `name` is the detector's section under `detect:`; the factory gets the settings `schema`
  // read (already validated) and returns nullptr (not an error) when they disable the detector.
  template <typename S>
  void Register(std::string name, const settings::Schema<S>& schema,
                std::type_identity_t<Factory<S>> factory) {
    entries_.push_back({std::move(name), &schema,
                        settings::WithSettingsOf(schema, Factory<S>(std::move(factory)))});
  }

  struct Entry {
    std::string name;
    const settings::SchemaBase* schema;
    std::function<absl::StatusOr<std::unique_ptr<Detector>>(const settings::AnySettings&,
                                                            const DetectorContext&)>
        create;
  };
  const std::vector<Entry>& entries() const { return entries_; }

  // Builds every registered detector in registration order, each with its settings from
  // `config` (its defaults when absent). Errors of all detectors are reported at once.
  absl::StatusOr<std::vector<std::unique_ptr<Detector>>> CreateAll(
      const DetectConfig& config) const;

  // The schema of the whole `detect:` section: the common keys and one section per detector,
  // read into DetectConfig::detectors.
  const settings::SchemaBase& DetectSchema() const;

 private:
  std::vector<Entry> entries_;
  // Built once, on first use, after every Register (app/builtin.cc); the registry outlives it.
  mutable std::once_flag detect_schema_once_;
  mutable std::unique_ptr<settings::Schema<DetectConfig>> detect_schema_;
};

}  // namespace faultline

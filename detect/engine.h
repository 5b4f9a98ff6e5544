// Routes each normalized event to the detectors that subscribed to its (provider, event id).
// Owns the detectors. Single-threaded: one Engine per detect thread (partition group).
#pragma once

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "detect/detector.h"

namespace faultline {

class Engine {
 public:
  explicit Engine(std::vector<std::unique_ptr<Detector>> detectors);

  // Hands `event` to its subscribers. Most events subscribe nowhere and cost one hash lookup.
  void Process(const Event& event, AlertOutput& out);

  const std::vector<std::unique_ptr<Detector>>& detectors() const { return detectors_; }

 private:
  static uint64_t RouteKey(Provider provider, uint32_t id) {
    return (static_cast<uint64_t>(provider) << 32) | id;
  }

  std::vector<std::unique_ptr<Detector>> detectors_;
  absl::flat_hash_map<uint64_t, std::vector<Detector*>> routes_;
};

}  // namespace faultline

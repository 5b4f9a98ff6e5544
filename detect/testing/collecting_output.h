// An AlertOutput for tests that keeps every alert.
#pragma once

#include <vector>

#include "detect/detector.h"

namespace faultline {

class CollectingOutput final : public AlertOutput {
 public:
  void Emit(Alert alert) override { alerts.push_back(std::move(alert)); }
  std::vector<Alert> alerts;
};

}  // namespace faultline

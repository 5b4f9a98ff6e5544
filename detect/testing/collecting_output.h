// An AlertOutput for tests that keeps every alert.
#pragma once

#include <vector>

#include "detect/detector.h"

namespace faultline {

class CollectingOutput final : public AlertOutput {
 public:
  void Emit(Alert alert) override { alerts.push_back(std::move(alert)); }
  std::vector<std::string> rules() const {
    std::vector<std::string> out;
    for (const Alert& a : alerts) out.push_back(a.rule());
    return out;
  }
  std::vector<Alert> alerts;
};

}  // namespace faultline

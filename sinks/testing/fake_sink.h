// A Sink for tests: keeps every alert it is sent, and can be told to fail.
#pragma once

#include <vector>

#include "sinks/sink.h"

namespace faultline {

class FakeSink final : public Sink {
 public:
  std::string_view name() const override { return "fake"; }
  absl::Status Send(const Alert& alert) override {
    if (fail) return absl::UnavailableError("fake sink is down");
    alerts.push_back(alert);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }

  std::vector<Alert> alerts;
  bool fail = false;
};

}  // namespace faultline

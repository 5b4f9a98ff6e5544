// Drives detectors through a real Engine in event time, for detector tests: Feed events, move
// event time on with Advance (an event no detector wants), read what was emitted.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "detect/engine.h"
#include "detect/testing/collecting_output.h"

namespace faultline {

class DetectorHarness {
 public:
  explicit DetectorHarness(std::unique_ptr<Detector> detector, EngineOptions options = {})
      : detector_(detector.get()) {
    std::vector<std::unique_ptr<Detector>> detectors;
    detectors.push_back(std::move(detector));
    engine_ = std::make_unique<Engine>(std::move(detectors), options);
  }

  void Feed(const Event& e) { engine_->Process(e, out_); }
  // Moves event time to `t` with an event that no detector subscribes to.
  void Advance(absl::Time t) {
    Event tick;
    tick.time = t;
    tick.host = "clock";
    tick.event_id = 1;
    engine_->Process(tick, out_);
  }
  // "rule status" per alert, e.g. "iis_worker_failure_burst firing".
  std::vector<std::string> Log() const {
    std::vector<std::string> out;
    for (const Alert& a : out_.alerts) out.push_back(a.rule() + " " + a.status());
    return out;
  }
  const std::vector<Alert>& alerts() const { return out_.alerts; }
  Detector& detector() { return *detector_; }
  Engine& engine() { return *engine_; }

 private:
  Detector* detector_;
  std::unique_ptr<Engine> engine_;
  CollectingOutput out_;
};

}  // namespace faultline

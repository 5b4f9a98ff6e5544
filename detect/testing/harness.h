// Drives detectors through a real Engine in event time, for detector tests: Feed events, move a
// host's time on with Advance (a WAS 5186 of a pool nobody watches: only events a detector
// subscribes to move a host's clock; for detectors that do not take it, Advance moves the
// arrival clock, and the host's time follows as a silent host's does), read what was emitted.
// Events arrive as from a punctual forwarder (broker time = event time) unless the test sets
// origin.broker_time itself.
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

  void Feed(const Event& e) {
    Event event = e;
    if (event.origin.broker_time == absl::InfinitePast()) event.origin.broker_time = event.time;
    engine_->Process(event, out_);
  }
  // Moves `host`'s time (and the arrival clock) to `t`, on the channel the tests' events use.
  void Advance(absl::Time t, std::string host = "EXCH01", std::string channel = "") {
    Event tick;
    tick.time = t;
    tick.host = std::move(host);
    tick.channel = std::move(channel);
    tick.provider = Provider::kWas;
    tick.event_id = kWasWorkerIdleShutdown;
    tick.app_pool = "(harness clock)";
    tick.pid = 1;
    Feed(tick);
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

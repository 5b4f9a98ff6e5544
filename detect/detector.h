// A Detector turns normalized events into alerts. The Engine calls OnEvent on the detect thread
// for each event whose (provider, event id) the detector subscribed to, in arrival order.
// Detectors run in event time: they never read a clock, so a replay of last month behaves like
// live traffic. They must not block or do I/O; alerts go to the AlertOutput.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/event.h"

namespace faultline {

class AlertOutput {
 public:
  virtual ~AlertOutput() = default;
  // Takes one alert. Called on the detect thread; must not block.
  virtual void Emit(Alert alert) = 0;
};

// (provider, event id): how the engine routes events to detectors.
struct EventKey {
  Provider provider;
  uint32_t event_id;
};

class Detector {
 public:
  virtual ~Detector() = default;
  // The registry name, e.g. "iis_rapid_fail".
  virtual std::string_view name() const = 0;
  // The events this detector wants; the engine sends it nothing else.
  virtual std::vector<EventKey> Subscriptions() const = 0;
  virtual void OnEvent(const Event& event, AlertOutput& out) = 0;
  // Event time has advanced to `watermark` (the newest event time less the allowed lateness):
  // resolve incidents whose window drained, expire idle keys. Called every few seconds of event
  // time, never with a smaller watermark than before.
  virtual void OnWatermark(absl::Time watermark, AlertOutput& out) = 0;

  struct Stats {
    size_t keys = 0;         // state held now
    uint64_t evictions = 0;  // keys dropped because max_keys was reached
  };
  virtual Stats stats() const = 0;
};

}  // namespace faultline

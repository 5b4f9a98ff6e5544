// A Detector turns normalized events into alerts. The Engine calls OnEvent on the detect thread
// for each event whose (provider, event id) the detector subscribed to, in arrival order.
// Detectors run in event time, per source host: they never read a clock, so a replay of last
// month behaves like live traffic, and they judge a host's state on that host's own time
// (Watermarks), so a lagging or mis-clocked host never closes another's incidents. They must not
// block or do I/O; alerts go to the AlertOutput.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/event.h"
#include "detect/watermarks.h"

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
  // An event inside its host's allowance: windows insert it in time order.
  virtual void OnEvent(const Event& event, AlertOutput& out) = 0;
  // An event older than its host and channel's newest by more than the allowed lateness: windows
  // may have closed past it. Use it only where it cannot reopen a closed incident (a pool-disabled
  // event raises its alert with the evidence still in state; a failure inside an incident still
  // open counts) and return true; the engine counts the events no detector used as too_late.
  virtual bool OnLateEvent(const Event& /*event*/, AlertOutput& /*out*/) { return false; }
  // Time has moved on (every few seconds of arrival time): resolve incidents whose window has
  // drained on their host's own watermark, expire idle keys. A host's watermark can step back
  // when a host that was silent resumes with older events: treat that as no progress.
  virtual void OnWatermark(const Watermarks& watermarks, AlertOutput& out) = 0;

  struct Stats {
    size_t keys = 0;         // state held now
    uint64_t evictions = 0;  // keys dropped because max_keys was reached
  };
  virtual Stats stats() const = 0;
};

}  // namespace faultline

// A Detector turns normalized events into alerts. The Engine calls OnEvent on the detect thread
// for each event whose (provider, event id) the detector subscribed to, in arrival order.
// Detectors run in event time, per source host: they never read a clock, so a replay of last
// month behaves like live traffic, and they judge a host's state on that host's own time
// (Watermarks), so a lagging or mis-clocked host never closes another's incidents. They must not
// block or do I/O; alerts go to the AlertOutput. An alert names its host when it derives from
// that host's events alone (a restore then knows it was sent before); one across hosts (a fleet
// incident) leaves the host empty.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
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
  // Any provider's event of this id (Sigma routes by channel and id, not by provider).
  bool any_provider = false;
  // Every event whatever its provider and id (a Sigma rule that names no event id).
  bool every_event = false;

  static EventKey AnyProvider(uint32_t id) { return {Provider::kOther, id, true, false}; }
  static EventKey Every() { return {Provider::kOther, 0, true, true}; }
};

// What a detector's state is keyed by. By host (most): a host's events are on one partition of a
// host-keyed topic, so whichever instance holds it has all of them. By application pool (the
// fleet detector): a pool's failures come from hosts on every partition, so with several
// instances they are forwarded to the pool topic keyed by pool (detect/pool_forward.h) and the
// detector runs where they meet.
enum class StateKey { kHost, kAppPool };

class Detector {
 public:
  virtual ~Detector() = default;
  // The registry name, e.g. "iis_rapid_fail".
  virtual std::string_view name() const = 0;
  // The events this detector wants; the engine sends it nothing else.
  virtual std::vector<EventKey> Subscriptions() const = 0;
  // For a detector subscribed to every event (EventKey::Every): whether it has a use for this
  // one, from what the event says alone (not time, not state). The engine asks before its
  // per-host work (dropping repeats, the host's clock), which an event no detector wants is
  // spared, as one no detector subscribes to is; it asks before each OnEvent or OnLateEvent it
  // calls, so a detector may keep what it found (a Sigma rule's match) for that call.
  virtual bool Wants(const Event& /*event*/) { return true; }
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
  // How far back in event time its windows reach (the longest window, override or correlation):
  // a partition read again from this far before its committed position rebuilds its state.
  virtual absl::Duration horizon() const = 0;
  virtual StateKey state_key() const { return StateKey::kHost; }
  // Whether it reads Event::data (every event data item by name): the parser fills it only then.
  virtual bool needs_all_fields() const { return false; }
  // The partition these keys (of its state_key(): hosts, or pools) were read from was revoked
  // from this member: the next owner rebuilds their state from Kafka and owns their incidents
  // (it resolves what is open). Drop what is kept of them, unresolved, so that if the partition
  // comes back its state is rebuilt from its events again rather than mixed with a stale
  // remainder.
  virtual void Forget(const absl::flat_hash_set<std::string>& /*keys*/) {}

  struct Stats {
    size_t keys = 0;         // state held now
    uint64_t evictions = 0;  // keys dropped because max_keys was reached
  };
  virtual Stats stats() const = 0;
};

}  // namespace faultline

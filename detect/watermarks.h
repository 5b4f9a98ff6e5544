// How far event time has come, as detectors read it when the engine calls OnWatermark. Time is
// per source host: a fleet's hosts each have their own forwarder delay and their own clock, so
// one host's lag, backlog or wrong clock must never close (or hold open) another host's
// incidents. State that no single host owns (a pool failing across the fleet) runs on the
// arrival clock instead. Implemented by EventClocks (detect/time/event_clocks.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"

namespace faultline {

// A host's clock, as the engine hands it to detectors on each of its events (Event::host_clock):
// reading a host's time through it is an array access, not a lookup by name. A reference to a
// host since evicted reads as an unknown host.
struct HostRef {
  uint64_t value = 0;  // 0: none
};

class Watermarks {
 public:
  virtual ~Watermarks() = default;
  // The event time up to which `host`'s events are complete: the newest event time of its
  // slowest channel less the allowed lateness, moved on with the arrival clock while the host
  // sends nothing for longer than its usual delivery gap (so a host that went quiet still has
  // its incidents resolve). A host the engine does not know (never seen, or evicted as the least
  // recently seen): the arrival clock less the lateness.
  virtual absl::Time Host(std::string_view host) const = 0;
  // The same from the host's own events only, never moved on by its silence: for timers that
  // must not run out while a host says nothing (a disabled pool stays disabled until a worker
  // shows). InfinitePast for a host the engine does not know.
  virtual absl::Time HostObserved(std::string_view host) const = 0;
  // The same through the reference a detector keeps with a key's state (Event::host_clock): an
  // array access. A reference to a host since evicted is renewed through `host`, the name (the
  // host may be back, under a new reference); until then the host reads as unknown.
  virtual absl::Time Host(HostRef& ref, std::string_view host) const = 0;
  virtual absl::Time HostObserved(HostRef& ref, std::string_view host) const = 0;
  // The arrival time (broker time, or the stream clock of a file) up to which every partition
  // has delivered, less the allowed lateness: the slowest partition's clock (a consumer catching
  // up reads its partitions a batch at a time, an hour or more apart), leaving out partitions
  // that delivered nothing in the last 100,000 messages (one that stopped receiving must not
  // hold everything back).
  virtual absl::Time Arrival() const = 0;
};

}  // namespace faultline

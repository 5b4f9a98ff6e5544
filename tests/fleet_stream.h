// A fleet's day on one topic, for the event-time tests: 200 hosts, each with its own forwarder
// and its own clock, interleaved in the order their messages reach Kafka.
//   - 172 punctual hosts (0-5 s from the event to the broker);
//   - 20 lagging: 5 behind Windows Event Forwarding in normal mode (a batch every 15 minutes),
//     15 with a constant lag from 1 minute to 2 hours (four of them 30 minutes alike);
//   - 5 that were cut off for a day and send the backlog when they come back;
//   - 3 with wrong clocks: a day ahead, a day behind, and in 2099 (forwarders punctual);
//   - on a seventh of the hosts the Application channel arrives 3 minutes behind System.
// Injected on every kind of host: worker-failure bursts, rapid-fail incidents (failures, an
// Application Error 1000 for the same crash, the disable), service crash loops, and pools failing
// across hosts. And what must be counted, not detected: redelivered records, times no clock can
// have (bad_time), a host re-reading a log ten days old (too_old), failures of pools with no open
// incident arriving half an hour late (too_late). Deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace faultline::testing {

struct FleetLine {
  std::string key;  // the host, as Winlogbeat's output.kafka.key would set it
  std::string value;
  absl::Time arrival;  // when the forwarder's message reaches the broker
};

// One injected incident: each of `rules` must fire exactly once for (host, app_pool | service).
struct FleetIncident {
  std::string what;  // for failure messages: "rapid-fail on lagging WEB180 (lag 1h)"
  std::vector<std::string> rules;
  std::string host;  // empty for fleet_app_pool_failures
  std::string app_pool;
  std::string service;
  // The first event as its host logged it, and as it really happened (different only for a
  // host whose clock is wrong).
  absl::Time first_logged, first_true;
  // Per rule (same order): how long after the event that raises it the alert can come, from the
  // event's logged time (replay) and from its true time (run, where a clock running ahead is
  // corrected).
  std::vector<absl::Duration> delay_logged, delay_true;
  uint32_t count = 0;  // iis_app_pool_disabled: the failures it carries
  // fleet_app_pool_failures: it fires at min_hosts and ends counting `hosts`. Which host's
  // failure completes it depends on the order a consumer reads its partitions in, so its first
  // event and its delay are known only within the range of its hosts'.
  uint32_t min_hosts = 0;
  uint32_t hosts = 0;
  absl::Time first_latest;
  absl::Duration delay_min, delay_max;
  bool clock_ahead = false;  // on a host whose clock runs ahead (fleet: one of them)
};

struct FleetStream {
  std::vector<FleetLine> lines;  // in arrival order
  std::vector<FleetIncident> incidents;
  // What the summary must count.
  uint64_t duplicates = 0;
  uint64_t bad_time = 0;
  uint64_t too_late = 0;
  uint64_t too_old_run = 0;      // replay has no broker time: nothing is too old there
  uint64_t clock_ahead_run = 0;  // nor is any host judged ahead of its own stamps
};

// The fleet's stream ending at `end` (the last arrival): its live part covers the 3 hours before,
// every arrival is within them. Its hosts are named WEB000.`domain` to WEB199.`domain` (and
// REREAD01.`domain`): two streams of different domains are two fleets, which can share a topic.
FleetStream MakeFleetStream(absl::Time end, uint64_t seed = 1,
                            const std::string& domain = "fleet.contoso.local");

}  // namespace faultline::testing

// The checks of a fleet's alerts (tests/fleet_stream.h) for the event-time tests: did every
// injected incident fire exactly once per rule, on its own time and with its detection delay,
// did nothing else fire, and did the summaries count what was skipped and why. Used by
// fleet_time_test (one faultline, from a file and from the broker) and container_load_test
// (three containers of the image in one consumer group, one killed midway).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/fleet_stream.h"

namespace faultline::testing {

// The text of the file at `path` ("" when it cannot be read), and the last line of a text.
std::string ReadAll(const std::string& path);
std::string LastLine(const std::string& text);

// What the checks read of an alert.
struct Got {
  std::string rule, status, host, app_pool, service, summary, fingerprint;
  uint32_t count = 0, sequence = 0;
  absl::Time first;
  double delay = 0;
};

// The alerts of a JSON-lines sink or of `faultline replay`'s stdout (a line that is not JSON
// fails the test).
std::vector<Got> ParseAlerts(const std::string& jsonl);

// Whether `g` is a notification of `rule` for the incident's host and pool or service.
bool Matches(const Got& g, const FleetIncident& inc, const std::string& rule);

struct IncidentCheck {
  // From the broker (`run`): clocks are judged against broker time and corrected exactly, so
  // first event times and delays are exact; otherwise (`replay`) the stream clock estimates them.
  bool run = false;
  // Rules left unchecked: no incident is looked for under them, and no alert of theirs is
  // unexpected.
  std::set<std::string> skip_rules;
  // A member was killed before its commit: its partitions were read again by another, so an
  // incident's first notification may come more than once, always under one fingerprint (the
  // idempotency key a receiver deduplicates by).
  bool redelivered = false;
};

// Every incident fired once per rule (its first notification: firing, sequence 1), on its own
// time, with its delay; no other first notification is among `alerts`. The incidents of several
// streams can be checked at once when their hosts' names differ (MakeFleetStream's `domain`).
void ExpectEveryIncidentOnce(const std::vector<FleetIncident>& incidents,
                             const std::vector<Got>& alerts, const IncidentCheck& check);

// The counters of `summaries` (each the last stderr line of a `run` or `replay`), summed, are
// exactly what `fleets` hold: duplicates, bad times, too late, too old (only from the broker:
// `run`), ahead, 200 hosts per stream, every message once. Several instances that together read
// each message once sum to the same.
void ExpectCounted(const std::vector<const FleetStream*>& fleets,
                   const std::vector<std::string>& summaries, bool run);

}  // namespace faultline::testing

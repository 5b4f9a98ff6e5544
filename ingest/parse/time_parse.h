// Event-time parsing without allocation (absl::ParseTime allocates and is ~10x slower).
#pragma once

#include <string_view>

#include "absl/time/time.h"

namespace faultline {

// Parses ISO-8601 / RFC 3339 date-times as forwarders write them:
// "2019-08-02T09:46:20.000Z", "2020-05-13T13:21:43.1831809Z", "2024-01-02T03:04:05+01:00",
// "2024-01-02 03:04:05 -0500" (space separator, "%z" offset). Without a zone the time is UTC.
// A time without a zone designator is read in `zoneless` (UTC when null): NXLog CE writes local
// time without a zone. Returns false on anything else, including out-of-range fields.
bool ParseIso8601(std::string_view text, absl::Time* out, const absl::TimeZone* zoneless = nullptr);

// Whether `text` (already accepted by ParseIso8601) carries its own zone: "Z" or an offset.
bool HasZone(std::string_view text);

// Event times faultline accepts: from 1970-01-01 up to (not including) 2100-01-01 UTC. Anything
// else (Windows' FILETIME zero of 1601, year 9999) is a broken clock or a broken record, rejected
// as bad_time rather than clamped to something that looks real.
bool IsPlausibleEventTime(absl::Time t);

}  // namespace faultline

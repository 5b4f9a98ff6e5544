// Synthetic IIS incidents as Winlogbeat 8 JSON lines, for end-to-end tests that need many
// alerts: incident i on host IIS<i>, pool Pool<i>, 2 minutes of event time apart. Each has five
// worker failures (WAS 5011) 20 s apart (burst at the third, imminent at the fourth), WAS 5002
// disabling the pool, and a recycle (WAS 5186, a live worker) that resolves all three: six
// alerts per incident.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace faultline::testing {

inline std::string WasEventJson(absl::Time t, const std::string& host, const std::string& pool,
                                int id, int pid, int64_t record_id) {
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
  return absl::StrFormat(
      R"({"@timestamp":"%s","event":{"code":"%d","provider":"Microsoft-Windows-WAS"},)"
      R"("host":{"name":"wec01"},"message":"WAS event %d for pool '%s'",)"
      R"("winlog":{"channel":"System","computer_name":"%s","event_data":{"AppPoolID":"%s",)"
      R"("ProcessID":"%d"},"event_id":"%d","provider_name":"Microsoft-Windows-WAS",)"
      R"("record_id":%d}})",
      when, id, id, pool, host, pool, pid, id, record_id);
}

inline std::vector<std::string> IncidentStream(int incidents) {
  std::vector<std::string> lines;
  const absl::Time base = absl::FromUnixSeconds(1773133200);  // 2026-03-10T09:00:00Z
  int64_t record = 1;
  for (int i = 0; i < incidents; ++i) {
    const std::string host = absl::StrFormat("IIS%02d.contoso.local", i);
    const std::string pool = absl::StrFormat("Pool%02d", i);
    const absl::Time start = base + absl::Minutes(2) * i;
    for (int f = 0; f < 5; ++f) {
      lines.push_back(WasEventJson(start + absl::Seconds(20) * f, host, pool, 5011,
                                   1000 + 10 * i + f, record++));
    }
    lines.push_back(WasEventJson(start + absl::Seconds(81), host, pool, 5002, 0, record++));
    lines.push_back(WasEventJson(start + absl::Seconds(110), host, pool, 5186, 2000 + i, record++));
  }
  return lines;
}

}  // namespace faultline::testing

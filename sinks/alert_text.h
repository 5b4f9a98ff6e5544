// Text pieces of an alert that several sinks render: the readable multi-line form (stdout/file
// `format: text`), one line per evidence entry (Slack, PagerDuty, Alertmanager annotations), the
// idempotency key. What they take from the alert (names and messages from events) is made
// printable (core/printable.h): no control or reordering character reaches a reader raw.
#pragma once

#include <string>
#include <vector>

#include "core/alert.h"

namespace faultline {

// "2026-03-10T09:14:03Z" (fractions of a second kept when present).
std::string Rfc3339(const google::protobuf::Timestamp& t);

// "2026-03-10T09:14:03Z failure Microsoft-Windows-WAS 5009 pid=4312 exit=0x800703E9 (stack
// overflow)".
std::string EvidenceLine(const Evidence& e);

// The readable rendering used by `format: text` and the demo.
std::string FormatAlertText(const Alert& alert);

// "<fingerprint>-<status>-<sequence>": names one notification; a redelivery (a retry, or a
// replay after a restart) carries the same key.
std::string IdempotencyKey(const Alert& alert);

// "EXCH01 / MSExchangeOWAAppPool": what the alert is about.
std::string WhereText(const Alert& alert);

// The alert's summary, printable (it names hosts and pools from events).
std::string SummaryText(const Alert& alert);

// What a chat card lists as label and value, in this order, leaving out the empty ones: Status,
// Severity, Host, App pool, Service, Count ("5 in 5m0s"), Events (first .. last event time).
struct Fact {
  const char* label;
  std::string value;
};
std::vector<Fact> AlertFacts(const Alert& alert);

// One EvidenceLine per entry, at most `max_lines` and a "... and N more" line (chat and paging
// bodies; the JSON has them all).
std::vector<std::string> EvidenceLines(const Alert& alert, size_t max_lines = 10);

// At most `max` bytes, cut at a UTF-8 character boundary: Slack, Teams, PagerDuty and Opsgenie
// refuse a payload with a broken character or over their limits.
std::string Truncate(std::string s, size_t max);

}  // namespace faultline

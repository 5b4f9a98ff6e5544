// Text pieces of an alert that several sinks render: the readable multi-line form (stdout/file
// `format: text`), one line per evidence entry (Slack, PagerDuty, Alertmanager annotations), the
// idempotency key.
#pragma once

#include <string>

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

}  // namespace faultline

// The request bodies of the webhook sink, one per `format`: pure functions of the alerts,
// golden-tested (webhook/testdata/).
//   json       the stable alert shape; an array when batching (batch_size > 1)
//   template   the user's text with {{placeholders}} filled in (see BodyTemplate)
//   pagerduty  a PagerDuty Events API v2 event: trigger, or resolve; dedup_key = fingerprint
//   slack      a Slack message (incoming webhook): a text fallback and readable blocks
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/alert.h"

namespace faultline {

std::string JsonBody(absl::Span<const Alert* const> alerts, bool as_array);

std::string PagerDutyBody(const Alert& alert, std::string_view routing_key);

std::string SlackBody(const Alert& alert);

// A body template: text with {{name}} placeholders. Names: rule, severity, status, host,
// app_pool, service, count, window_seconds, first_event_time, last_event_time, fingerprint,
// incident_id, sequence, idempotency_key, summary, evidence (one line per entry), alert (the
// whole alert as JSON), labels.NAME. With `json_escape`, values are escaped for the inside of a
// JSON string (the template is a JSON document); `alert` is inserted as it is either way.
class BodyTemplate {
 public:
  // kInvalidArgument naming an unknown placeholder or an unclosed {{.
  static absl::StatusOr<BodyTemplate> Parse(std::string_view text, bool json_escape);
  std::string Render(const Alert& alert) const;

 private:
  struct Piece {
    bool field;
    std::string text;  // literal text, or the placeholder name
  };
  std::vector<Piece> pieces_;
  bool json_escape_ = true;
};

}  // namespace faultline

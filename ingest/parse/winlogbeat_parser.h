// Parses Winlogbeat / Elastic Agent JSON (ECS, nested `winlog`): 7.x with numeric event ids and
// 8.x with string ids. Host from winlog.computer_name (host.name can be the collector on
// forwarded events, so it is only the fallback). Walks each object once in document order with
// simdjson On-Demand (STYLE.md: out-of-order lookups rescan the object).
#pragma once

#include <string>

#include "ingest/parse/event_fields.h"
#include "ingest/parse/parser.h"
#include "simdjson.h"

namespace faultline {

class WinlogbeatParser final : public EventParser {
 public:
  ParseError Parse(std::string_view message, Event* out) override;

 private:
  ParseError ParseWinlog(simdjson::ondemand::object winlog, Event* out);
  ParseError ParseEventData(simdjson::ondemand::object data);

  simdjson::ondemand::parser parser_;
  std::string buffer_;  // the message copied with SIMDJSON_PADDING spare bytes
  RawFields raw_;
  std::string_view event_code_;  // event.code: fallback for winlog.event_id
  std::string_view host_name_;   // host.name: fallback for winlog.computer_name
  bool have_event_id_ = false;
};

}  // namespace faultline

// An EventParser turns one forwarder message (bytes) into a normalized Event. One instance per
// thread: it owns a reused simdjson parser and padded buffer, so parsing allocates nothing once
// the buffers have grown to the largest message seen.
#pragma once

#include <string_view>

#include "core/event.h"
#include "ingest/parse/parse_error.h"

namespace faultline {

class EventParser {
 public:
  virtual ~EventParser() = default;
  // Parses `message` into `*out` (cleared first). On an error `*out` is unspecified. Never
  // throws, never crashes on any input; the error says why the message was rejected.
  virtual ParseError Parse(std::string_view message, Event* out) = 0;
};

}  // namespace faultline

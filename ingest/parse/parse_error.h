// Why a message was rejected. Parsers return this enum rather than absl::Status because they run
// per message on the hot path and a rejection must not allocate; the reason's name is the label
// in summaries, metrics and dead-letter headers.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace faultline {

enum class ParseError : uint8_t {
  kOk = 0,
  kNotJson,          // not valid JSON at all (binary, garbage)
  kTruncated,        // JSON cut short (unclosed string, object or array)
  kNotObject,        // valid JSON whose root is not an object
  kWrongType,        // a field faultline needs has the wrong JSON type
  kNoEventId,        // no event id, or one that is not a 32-bit number
  kNoHost,           // no computer name
  kBadTime,          // event time missing or unparseable
  kTooLarge,         // larger than the configured per-message limit
  kUnknownEnvelope,  // JSON object that no forwarder envelope parser recognises
  kNotEventProto,    // ingest.format faultline_event: not a faultline.v1.Event (the rekey output)
  kBadUtf8,          // JSON whose text is not valid UTF-8 (a forwarder's wrong code page)
  kTrailingData,     // more after the document: two objects on one line (the second not read)
};

inline constexpr int kParseErrorCount = 13;

inline constexpr std::array<std::string_view, kParseErrorCount> kParseErrorNames = {
    "ok",           "not_json", "truncated", "not_object",       "wrong_type",      "no_event_id",
    "no_host",      "bad_time", "too_large", "unknown_envelope", "not_event_proto", "bad_utf8",
    "trailing_data"};

inline std::string_view ParseErrorName(ParseError e) {
  return kParseErrorNames[static_cast<int>(e)];
}

}  // namespace faultline

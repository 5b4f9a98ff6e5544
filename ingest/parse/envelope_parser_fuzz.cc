// libFuzzer target over every envelope parser: auto-detection (JSON envelopes, XML, unwrapping)
// and the forced XML path. Seeds: the real fixtures and the incident in every envelope; a
// multi-line seed is also fed line by line. Beyond "no crash, no sanitizer report", it checks
// the parser's contract: an accepted event has a host and a finite time. An input whose first
// byte is odd is also parsed with all_fields (every event data item into Event::data): it gives
// the same answer and the same detector fields, or, reading further into malformed JSON, a JSON
// error (simdjson On-Demand validates what it reads: all_fields unescapes values nothing else
// reads).
#include <cstdint>
#include <string_view>

#include "ingest/parse/envelope_parser.h"

namespace {

// What reading more of a malformed document can run into first.
bool IsInvalidJson(faultline::ParseError error) {
  using faultline::ParseError;
  return error == ParseError::kNotJson || error == ParseError::kTruncated ||
         error == ParseError::kBadUtf8 || error == ParseError::kWrongType ||
         error == ParseError::kTrailingData;
}

void Check(faultline::EventParser& parser, std::string_view input,
           faultline::EventParser* all_fields) {
  faultline::Event event;
  const faultline::ParseError error = parser.Parse(input, &event);
  if (error == faultline::ParseError::kOk) {
    if (event.host.empty() || event.time == absl::InfinitePast() ||
        event.time == absl::InfiniteFuture()) {
      __builtin_trap();
    }
    if (event.data.size() != 0) __builtin_trap();
  }
  if (all_fields == nullptr) return;
  faultline::Event full;
  const faultline::ParseError full_error = all_fields->Parse(input, &full);
  if (full_error != error && !IsInvalidJson(full_error)) __builtin_trap();
  if (full_error != faultline::ParseError::kOk) return;
  if (full.event_id != event.event_id || full.host != event.host || full.time != event.time ||
      full.app_pool != event.app_pool || full.pid != event.pid ||
      full.exit_code != event.exit_code || full.exception_code != event.exception_code ||
      full.service != event.service || full.faulting_app != event.faulting_app ||
      full.faulting_module != event.faulting_module || full.detail != event.detail) {
    __builtin_trap();
  }
  // Values are decoded text of the input, which decoding never makes longer.
  for (size_t i = 0; i < full.data.size(); ++i) {
    if (full.data.value(i).size() > input.size()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static faultline::EnvelopeParser parser;
  static faultline::EnvelopeParser xml_parser({.format = faultline::Envelope::kXml});
  static faultline::EnvelopeParser all_fields({.all_fields = true});
  static faultline::EnvelopeParser xml_all_fields(
      {.format = faultline::Envelope::kXml, .all_fields = true});
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool full = size > 0 && (data[0] & 1) != 0;
  Check(parser, input, full ? &all_fields : nullptr);
  Check(xml_parser, input, full ? &xml_all_fields : nullptr);
  for (size_t start = 0; start < input.size();) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    if (end > start && end - start < input.size()) {
      Check(parser, input.substr(start, end - start), full ? &all_fields : nullptr);
    }
    start = end + 1;
  }
  return 0;
}

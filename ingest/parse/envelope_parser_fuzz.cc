// libFuzzer target over every envelope parser: auto-detection (JSON envelopes, XML, unwrapping)
// and the forced XML path. Seeds: the real fixtures and the incident in every envelope; a
// multi-line seed is also fed line by line. Beyond "no crash, no sanitizer report", it checks
// the parser's contract: an accepted event has a host and a finite time.
#include <cstdint>
#include <string_view>

#include "ingest/parse/envelope_parser.h"

namespace {

void Check(faultline::EventParser& parser, std::string_view input) {
  faultline::Event event;
  if (parser.Parse(input, &event) == faultline::ParseError::kOk) {
    if (event.host.empty() || event.time == absl::InfinitePast() ||
        event.time == absl::InfiniteFuture()) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static faultline::EnvelopeParser parser;
  static faultline::EnvelopeParser xml_parser({.format = faultline::Envelope::kXml});
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Check(parser, input);
  Check(xml_parser, input);
  for (size_t start = 0; start < input.size();) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    if (end > start && end - start < input.size()) Check(parser, input.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}

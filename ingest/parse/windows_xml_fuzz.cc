// libFuzzer target over the Windows event XML scanner alone (WindowsXmlParser), the parser of
// WEF, NXLog raw and Winlogbeat's event.original renderings: entities, CDATA, attributes in any
// quoting, elements cut anywhere. Seeds: the real XML fixtures. Beyond "no crash, no sanitizer
// report", it checks the scanner's contract: every view it returns lies within the input or its
// scratch buffer (ASan reads them all), an accepted event has a finite time.
#include <cstdint>
#include <string_view>

#include "core/windows_events.h"
#include "ingest/parse/windows_xml.h"

namespace {

volatile size_t g_sink;  // keeps the reads of every view

void Touch(std::string_view s) {
  size_t sum = 0;
  for (char c : s) sum += static_cast<unsigned char>(c);
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static faultline::WindowsXmlParser parser;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  faultline::Event event;
  faultline::RawFields raw;
  const faultline::ParseError error = parser.Parse(input, &event, &raw);
  Touch(event.host);
  Touch(event.provider_name);
  Touch(event.channel);
  for (std::string_view v :
       {raw.app_pool, raw.pid, raw.exit_code, raw.faulting_app, raw.faulting_module,
        raw.exception_code, raw.message, raw.binary, raw.module_dll}) {
    Touch(v);
  }
  for (std::string_view v : raw.params) Touch(v);
  // What the envelope parser then derives from them (numbers, the SCM binary's UTF-16, the
  // positions of each provider's data).
  event.provider = faultline::ClassifyProvider(event.provider_name);
  faultline::ResolveEventFields(raw, &event);
  Touch(event.app_pool);
  Touch(event.service);
  if (error == faultline::ParseError::kOk &&
      (event.time == absl::InfinitePast() || event.time == absl::InfiniteFuture())) {
    __builtin_trap();
  }
  return 0;
}

// Parses the Windows event XML rendering (<Event xmlns=...><System>...</System><EventData>
// <Data Name="...">...</Data><Binary>...</Binary></EventData></Event>), as WEF, NXLog raw,
// Logstash or Winlogbeat's event.original carry it. Not a general XML parser: it reads exactly
// the elements of that schema and ignores the rest; entities are decoded; no allocation once its
// scratch buffer has grown.
#pragma once

#include <string>
#include <string_view>

#include "core/event.h"
#include "ingest/parse/event_fields.h"
#include "ingest/parse/parse_error.h"

namespace faultline {

class WindowsXmlParser {
 public:
  // all_fields: Parse also fills Event::data with every event data item (EnvelopeOptions).
  explicit WindowsXmlParser(bool all_fields = false) : all_fields_(all_fields) {}

  // Fills the event header of `out` and the event data of `raw` from the first <Event> element
  // of `xml`. `raw` views point into `xml` or into this parser's scratch buffer: valid until the
  // next call. Time comes from TimeCreated/@SystemTime. With all_fields, out->data gets every
  // <Data Name="X"> as X, unnamed <Data> as param1..N, <Binary> as Binary, and the leaf elements
  // of <UserData> by their names (values decoded; empty ones kept).
  ParseError Parse(std::string_view xml, Event* out, RawFields* raw);

 private:
  bool all_fields_;
  std::string scratch_;  // decoded entities; reserved to the input size so views stay valid
};

}  // namespace faultline

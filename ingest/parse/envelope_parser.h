// Parses one forwarder message of any supported envelope into an Event, detecting the envelope
// per message (real topics mix forwarders) unless one is forced:
//   winlogbeat          Winlogbeat / Elastic Agent 7.x (numeric ids) and 8.x (string ids),
//                       also as passed through Logstash (extra @version/tags keys)
//   winlogbeat6         Winlogbeat 6.x: top-level event_id, source_name, computer_name, event_data
//   nxlog               NXLog im_msvistalog + to_json(): CE (zone-less local EventTime, header
//                       ProcessID) and EE (ISO-8601 EventTime, ExecutionProcessID)
//   fluentbit_winevtlog Fluent Bit in_winevtlog: TimeCreated with %z, StringInserts, EventData map
//   fluentbit_winlog    Fluent Bit in_winlog (legacy): TimeGenerated, StringInserts
//   xml                 the Windows event XML: a bare message, or a JSON string field
//                       (event.original, message)
//   faultline_event     the protobuf faultline.v1.Event `faultline rekey` publishes (only when
//                       forced: it is not a forwarder's, and binary)
// A JSON message whose only content is another JSON document as a string (a plain-codec
// pipeline in between) is unwrapped once.
//
// One mechanism for every JSON envelope: their key names do not collide, so a single pass over
// each object in document order (simdjson On-Demand; out-of-order lookups would rescan) files
// every value into a slot; the envelope is then told from which keys were present, and its spec
// says which time field to trust and whose ProcessID is the worker's.
#pragma once

#include <span>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "core/event_codec.h"
#include "ingest/parse/event_fields.h"
#include "ingest/parse/parser.h"
#include "ingest/parse/windows_xml.h"
#include "simdjson.h"

namespace faultline {

enum class Envelope : uint8_t {
  kAuto = 0,
  kWinlogbeat,
  kWinlogbeat6,
  kNxlog,
  kFluentBitWinevtlog,
  kFluentBitWinlog,
  kXml,
  kFaultlineEvent,
};

std::string_view EnvelopeName(Envelope envelope);
// Every envelope with its name, "auto" first: the values of ingest.format.
std::span<const std::pair<Envelope, std::string_view>> EnvelopeNames();
// "auto", "winlogbeat", ...; false for an unknown name.
bool ParseEnvelopeName(std::string_view name, Envelope* out);

struct EnvelopeOptions {
  Envelope format = Envelope::kAuto;  // forced envelope, or detect per message
  // The zone of NXLog CE's zone-less EventTime (the forwarding host's local time).
  absl::TimeZone local_time_zone = absl::UTCTimeZone();
};

class EnvelopeParser final : public EventParser {
 public:
  explicit EnvelopeParser(EnvelopeOptions options = {}) : options_(options) {}
  ParseError Parse(std::string_view message, Event* out) override;

  // Everything the walk of one JSON document found, as views into the parser's buffers.
  struct Slots {
    // Time candidates; which one an envelope trusts, and in what order, is its TimeSources.
    std::string_view timestamp, event_time, time_created, time_generated, event_received_time;
    std::string_view event_id, event_code, provider, host, host_name, channel, record, level;
    std::string_view original, process_id;
    uint32_t seen = 0;  // SeenBit flags: which identifying keys were present
  };

 private:
  ParseError ParseJson(std::string_view message, Event* out, bool may_unwrap);
  ParseError ParseXml(std::string_view xml, Event* out);
  ParseError ParseEventProto(std::string_view bytes, Event* out);
  ParseError Walk(simdjson::ondemand::object root);
  ParseError WalkWinlog(simdjson::ondemand::object winlog);
  ParseError WalkNamedData(simdjson::ondemand::object data);
  ParseError WalkInserts(simdjson::ondemand::array inserts);
  ParseError Finish(Envelope envelope, Event* out);
  // The best event time the document carries for `envelope` (see kTimeSources).
  ParseError PickTime(Envelope envelope, absl::Time* out) const;
  // ClassifyProvider with a one-entry memo: consecutive events mostly share a provider.
  Provider Classify(std::string_view provider_name);

  EnvelopeOptions options_;
  simdjson::ondemand::parser parser_;
  std::string buffer_;  // the message copied with SIMDJSON_PADDING spare bytes
  WindowsXmlParser xml_;
  EventCodec codec_;
  RawFields raw_;
  Slots slots_;
  std::string last_provider_name_;
  Provider last_provider_ = Provider::kOther;
};

}  // namespace faultline

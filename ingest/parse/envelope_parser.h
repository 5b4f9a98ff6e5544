// Parses one forwarder message of any supported envelope into an Event, detecting the envelope
// per message (real topics mix forwarders) unless one is forced:
//   winlogbeat          Winlogbeat / Elastic Agent 7.x (numeric ids) and 8.x (string ids),
//                       also as passed through Logstash (extra @version/tags keys)
//   winlogbeat6         Winlogbeat 6.x: top-level event_id, source_name, computer_name, event_data
//   nxlog               NXLog im_msvistalog + to_json(): CE (zone-less local EventTime, header
//                       ProcessID) and EE (ISO-8601 EventTime, ExecutionProcessID)
//   fluentbit_winevtlog Fluent Bit in_winevtlog: TimeCreated with %z, StringInserts, EventData map
//   fluentbit_winlog    Fluent Bit in_winlog (legacy): TimeGenerated, StringInserts
//   evtx_json           the evtx_dump JSON rendering of the event XML (omerbenamram/evtx
//                       `evtx_dump -o json`, SigmaHQ's regression data): {"Event": {"System":
//                       {...}, "EventData" or "UserData": {...}}}, attributes under "#attributes"
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
#include <vector>

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
  kEvtxJson,
  kXml,
  kFaultlineEvent,
};

// Every envelope with its name, "auto" first: the values of ingest.format.
std::span<const std::pair<Envelope, std::string_view>> EnvelopeNames();

struct EnvelopeOptions {
  Envelope format = Envelope::kAuto;  // forced envelope, or detect per message
  // The zone of NXLog CE's zone-less EventTime (the forwarding host's local time).
  absl::TimeZone local_time_zone = absl::UTCTimeZone();
  // Fill Event::data with every event data item (for rules that may test any field, Sigma):
  // named items by name, unnamed ones as param1..N, UserData leaves by their element names,
  // NXLog's top-level keys it does not know as its own header. Off: only what the detectors read
  // is unescaped, and Event::data stays empty.
  bool all_fields = false;
};

class EnvelopeParser final : public EventParser {
 public:
  explicit EnvelopeParser(EnvelopeOptions options = {})
      : options_(options), xml_(options.all_fields) {}
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
  // Event data by name (Winlogbeat's event_data and user_data, Fluent Bit's EventData map).
  ParseError WalkNamedData(simdjson::ondemand::object data, bool user_data = false);
  ParseError WalkInserts(simdjson::ondemand::array inserts);
  ParseError WalkEvtxEvent(simdjson::ondemand::object event);
  ParseError WalkEvtxSystem(simdjson::ondemand::object system);
  ParseError WalkEvtxEventData(simdjson::ondemand::object data);
  ParseError WalkEvtxParams(simdjson::ondemand::value data);
  // all_fields: adds `v` to data_ under `name` (an object: its leaves by their own names, its
  // "#text" under `name`; an array: each element under `name`; null: nothing), and to `slot`
  // (when not null) the text the walk without all_fields would have read: ValueText's, or with
  // `element` (evtx_dump's JSON) ElementText's.
  ParseError AddItem(std::string_view name, simdjson::ondemand::value v, std::string_view* slot,
                     bool element = false);
  void AddParam(size_t position, std::string_view text);
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
  // all_fields: where the walk adds event data items (the event being parsed), else null.
  EventData* data_ = nullptr;
  // all_fields: the top-level keys the walk did not know, with scalar values; NXLog's event data
  // once the envelope is known to be NXLog's. Views into the parser's buffers.
  std::vector<std::pair<std::string_view, std::string_view>> top_level_;
  std::string last_provider_name_;
  Provider last_provider_ = Provider::kOther;
};

}  // namespace faultline

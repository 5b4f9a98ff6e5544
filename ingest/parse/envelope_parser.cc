#include "ingest/parse/envelope_parser.h"

#include <array>
#include <vector>

#include "core/strings.h"
#include "ingest/parse/json_value.h"
#include "ingest/parse/time_parse.h"

namespace faultline {
namespace {

using simdjson::ondemand::array;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

// Keys whose presence tells the envelopes apart.
enum SeenBit : uint32_t {
  kSawWinlog = 1 << 0,        // winlog {...}: Winlogbeat 7/8
  kSawWinlogbeat6 = 1 << 1,   // event_id / source_name / computer_name at the top level
  kSawNxlog = 1 << 2,         // Hostname, EventTime, SourceModuleType
  kSawNxlogEe = 1 << 3,       // ExecutionProcessID: EE renamed the header pid
  kSawWinevtlog = 1 << 4,     // ProviderName, Computer, TimeCreated
  kSawWinlogLegacy = 1 << 5,  // ComputerName, TimeGenerated
  kSawUpperEventId = 1 << 6,  // EventID / EventId
  kSawEvtx = 1 << 7,          // Event {...}: evtx_dump's JSON
};

enum class Key : uint8_t {
  kOther,
  kTimestamp,
  kWinlog,
  kEventObject,
  kLogObject,
  kHostObject,
  kMessage,
  kEventIdWb6,
  kProviderWb6,
  kHostWb6,
  kChannelWb6,
  kRecordWb6,
  kLevelWb6,
  kEventDataWb6,
  kUserDataWb6,
  kEventId,
  kSourceName,
  kProviderName,
  kHostname,
  kComputer,
  kComputerName,
  kChannel,
  kRecordNumber,
  kEventRecordId,
  kEventTime,
  kTimeCreated,
  kTimeGenerated,
  kEventReceivedTime,
  kLevel,
  kEventType,
  kProcessId,
  kExecutionProcessId,
  kStringInserts,
  kEventDataMap,
  kData,
  kSourceModuleType,
  kEvtxEvent,
};

struct KeyName {
  std::string_view name;
  Key key;
};

// Top-level keys of every JSON envelope. Checked by length first, so a miss is cheap.
constexpr std::array<KeyName, 39> kRootKeys = {{
    {"@timestamp", Key::kTimestamp},
    {"winlog", Key::kWinlog},
    {"event", Key::kEventObject},
    {"log", Key::kLogObject},
    {"host", Key::kHostObject},
    {"message", Key::kMessage},
    {"Message", Key::kMessage},
    {"event_id", Key::kEventIdWb6},
    {"source_name", Key::kProviderWb6},
    {"computer_name", Key::kHostWb6},
    {"log_name", Key::kChannelWb6},
    {"record_number", Key::kRecordWb6},
    {"level", Key::kLevelWb6},
    {"event_data", Key::kEventDataWb6},
    {"user_data", Key::kUserDataWb6},
    {"EventID", Key::kEventId},
    {"EventId", Key::kEventId},
    {"SourceName", Key::kSourceName},
    {"ProviderName", Key::kProviderName},
    {"Hostname", Key::kHostname},
    {"Computer", Key::kComputer},
    {"ComputerName", Key::kComputerName},
    {"Channel", Key::kChannel},
    {"RecordNumber", Key::kRecordNumber},
    {"EventRecordID", Key::kEventRecordId},
    {"EventTime", Key::kEventTime},
    {"TimeCreated", Key::kTimeCreated},
    {"TimeGenerated", Key::kTimeGenerated},
    {"EventReceivedTime", Key::kEventReceivedTime},
    {"Level", Key::kLevel},
    {"EventType", Key::kEventType},
    {"ProcessID", Key::kProcessId},
    {"ExecutionProcessID", Key::kExecutionProcessId},
    {"StringInserts", Key::kStringInserts},
    {"EventData", Key::kEventDataMap},
    {"Data", Key::kData},
    {"SourceModuleType", Key::kSourceModuleType},
    {"Event", Key::kEvtxEvent},
    {"date", Key::kOther},  // Fluent Bit's read time: never the event time
}};

// Keys indexed by their first byte: a lookup compares against one to seven candidates instead
// of all 39 (measured: the linear scan cost ~25% of a Winlogbeat parse).
class RootKeyIndex {
 public:
  RootKeyIndex() {
    for (const KeyName& k : kRootKeys) {
      by_first_[static_cast<unsigned char>(k.name[0])].push_back(k);
    }
  }
  Key Lookup(std::string_view name) const {
    if (name.empty()) return Key::kOther;
    for (const KeyName& k : by_first_[static_cast<unsigned char>(name[0])]) {
      if (k.name == name) return k.key;
    }
    return Key::kOther;
  }

 private:
  std::array<std::vector<KeyName>, 256> by_first_;
};

Key LookupRootKey(std::string_view name) {
  static const RootKeyIndex kIndex;
  return kIndex.Lookup(name);
}

constexpr std::array<std::pair<Envelope, std::string_view>, 9> kEnvelopeNames = {{
    {Envelope::kAuto, "auto"},
    {Envelope::kWinlogbeat, "winlogbeat"},
    {Envelope::kWinlogbeat6, "winlogbeat6"},
    {Envelope::kNxlog, "nxlog"},
    {Envelope::kFluentBitWinevtlog, "fluentbit_winevtlog"},
    {Envelope::kFluentBitWinlog, "fluentbit_winlog"},
    {Envelope::kEvtxJson, "evtx_json"},
    {Envelope::kXml, "xml"},
    {Envelope::kFaultlineEvent, "faultline_event"},
}};

uint8_t LevelFrom(std::string_view text) {
  uint32_t n;
  if (ParseUint32(text, false, &n)) return n < 256 ? static_cast<uint8_t>(n) : 0;
  if (EqualsIgnoreCase(text, "critical")) return 1;
  if (EqualsIgnoreCase(text, "error")) return 2;
  if (EqualsIgnoreCase(text, "warning")) return 3;
  if (EqualsIgnoreCase(text, "information") || EqualsIgnoreCase(text, "info") ||
      EqualsIgnoreCase(text, "audit_success") || EqualsIgnoreCase(text, "audit_failure")) {
    return 4;
  }
  if (EqualsIgnoreCase(text, "verbose")) return 5;
  return 0;
}

bool StartsWith(std::string_view text, char c) {
  text = StripWhitespace(text);
  return !text.empty() && text.front() == c;
}

// True if `json` opens more objects and arrays than it closes (outside strings): cut short.
// Only run on the error path.
bool LeavesOpen(std::string_view json) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return depth > 0 || in_string;
}

// Reads the one nested key we want out of a small object (event.code, log.level, host.name).
simdjson::error_code FindText(value v, std::string_view wanted, std::string_view* out) {
  object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return simdjson::SUCCESS;
  for (auto field : obj) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return err;
    if (key != wanted) continue;
    value field_value;
    if (auto err = field.value().get(field_value)) return err;
    return ValueText(field_value, out);
  }
  return simdjson::SUCCESS;
}

// The text of an element of evtx_dump's JSON: the value itself, or its "#text" when the element
// has attributes too ({"#attributes": {"Qualifiers": 16384}, "#text": 7036}).
simdjson::error_code ElementText(value v, std::string_view* out) {
  object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return ValueText(v, out);
  for (auto field : obj) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return err;
    if (key != "#text") continue;
    value text;
    if (auto err = field.value().get(text)) return err;
    return ValueText(text, out);
  }
  *out = {};
  return simdjson::SUCCESS;
}

// Attribute `name` of an element of evtx_dump's JSON ({"#attributes": {"Name": ...}}).
simdjson::error_code AttributeText(value v, std::string_view name, std::string_view* out) {
  object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return simdjson::SUCCESS;
  for (auto field : obj) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return err;
    if (key != "#attributes") continue;
    value attributes;
    if (auto err = field.value().get(attributes)) return err;
    return FindText(attributes, name, out);
  }
  return simdjson::SUCCESS;
}

// A scalar's text (a string unescaped, a number or boolean as written) and *present true; null,
// objects and arrays give "" (as ValueText does) and *present false.
simdjson::error_code ItemText(value v, std::string_view* out, bool* present) {
  *present = false;
  const simdjson::error_code as_string = v.get_string().get(*out);
  if (as_string != simdjson::INCORRECT_TYPE) {
    *present = as_string == simdjson::SUCCESS;
    return as_string;
  }
  simdjson::ondemand::json_type type;
  if (auto err = v.type().get(type)) return err;
  *out = {};
  if (type == simdjson::ondemand::json_type::number ||
      type == simdjson::ondemand::json_type::boolean) {
    *out = StripWhitespace(v.raw_json_token());
    *present = true;
  }
  return simdjson::SUCCESS;
}

}  // namespace

std::span<const std::pair<Envelope, std::string_view>> EnvelopeNames() { return kEnvelopeNames; }

ParseError EnvelopeParser::Parse(std::string_view message, Event* out) {
  out->Clear();
  raw_.Clear();
  data_ = options_.all_fields ? &out->data : nullptr;
  if (options_.format == Envelope::kFaultlineEvent) return ParseEventProto(message, out);
  // A UTF-8 byte-order mark (a file saved by a Windows editor, PowerShell's Out-File) is no text.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (message.substr(0, kBom.size()) == kBom) message.remove_prefix(kBom.size());
  if (options_.format == Envelope::kXml || StartsWith(message, '<')) return ParseXml(message, out);
  const ParseError error = ParseJson(message, out, /*may_unwrap=*/true);
  // simdjson reports a document cut after a complete value as a structural error; a message
  // that opens an object and never closes one was cut short (a forwarder's size limit, a torn
  // write), which the user should read as such.
  if (error == ParseError::kNotJson && StartsWith(message, '{') && LeavesOpen(message)) {
    return ParseError::kTruncated;
  }
  // Text in the wrong encoding is an object with a bad byte in it; binary is not JSON at all.
  if (error == ParseError::kBadUtf8 && !StartsWith(message, '{')) return ParseError::kNotJson;
  return error;
}

ParseError EnvelopeParser::ParseXml(std::string_view xml, Event* out) {
  if (ParseError e = xml_.Parse(xml, out, &raw_); e != ParseError::kOk) return e;
  out->provider = Classify(out->provider_name);
  ResolveEventFields(raw_, out);
  return ParseError::kOk;
}

ParseError EnvelopeParser::ParseEventProto(std::string_view bytes, Event* out) {
  // Written by `faultline rekey` from a parsed event, but the topic is input like any other: a
  // producer that is not the rekey stage, or a record cut short, is rejected as such.
  if (!codec_.Decode(bytes, out)) return ParseError::kNotEventProto;
  if (out->host.empty()) return ParseError::kNoHost;
  return IsPlausibleEventTime(out->time) ? ParseError::kOk : ParseError::kBadTime;
}

ParseError EnvelopeParser::ParseJson(std::string_view message, Event* out, bool may_unwrap) {
  slots_ = Slots{};
  top_level_.clear();
  simdjson::ondemand::document doc;
  // simdjson says "ended early" of an object followed by more (`{...} 42`): one whose brackets
  // all close is whole, with something after it.
  auto cut_or_more = [message](ParseError e) {
    return e == ParseError::kTruncated && StartsWith(message, '{') && !LeavesOpen(message)
               ? ParseError::kTrailingData
               : e;
  };
  if (auto err = IteratePadded(parser_, message, buffer_, &doc)) {
    return cut_or_more(FromSimdjson(err));
  }
  object root;
  if (auto err = doc.get_object().get(root)) {
    return err == simdjson::INCORRECT_TYPE ? RootNotObject(doc) : cut_or_more(FromSimdjson(err));
  }
  if (ParseError e = Walk(root); e != ParseError::kOk) return cut_or_more(e);
  // The root object read to its end: anything but whitespace after it (a second object on the
  // same line) would otherwise vanish unread and uncounted.
  const char* after = nullptr;
  if (doc.current_location().get(after) == simdjson::SUCCESS) return ParseError::kTrailingData;

  const uint32_t seen = slots_.seen;
  Envelope envelope = options_.format;
  if (envelope == Envelope::kAuto) {
    // The first and the last branch say Winlogbeat for different reasons.
    if (seen & kSawWinlog) {  // NOLINT(bugprone-branch-clone)
      envelope = Envelope::kWinlogbeat;
    } else if (seen & kSawEvtx) {
      envelope = Envelope::kEvtxJson;
    } else if (seen & kSawWinlogbeat6) {
      envelope = Envelope::kWinlogbeat6;
    } else if (seen & kSawUpperEventId) {
      envelope = (seen & kSawNxlog)          ? Envelope::kNxlog
                 : (seen & kSawWinevtlog)    ? Envelope::kFluentBitWinevtlog
                 : (seen & kSawWinlogLegacy) ? Envelope::kFluentBitWinlog
                                             : Envelope::kAuto;
    } else if (!slots_.event_code.empty()) {
      envelope = Envelope::kWinlogbeat;  // ECS without winlog: event.code and host.name
    }
  }
  if (envelope == Envelope::kAuto) {
    // No header of a JSON envelope: the event may travel as XML or as an inner JSON document.
    for (std::string_view inner : {slots_.original, raw_.message}) {
      if (StartsWith(inner, '<')) {
        out->Clear();
        return ParseXml(inner, out);
      }
      if (may_unwrap && StartsWith(inner, '{')) {
        out->Clear();
        raw_.Clear();
        return ParseJson(inner, out, /*may_unwrap=*/false);
      }
    }
    return ParseError::kUnknownEnvelope;
  }
  return Finish(envelope, out);
}

ParseError EnvelopeParser::Finish(Envelope envelope, Event* out) {
  const Slots& s = slots_;
  std::string_view id = s.event_id.empty() ? s.event_code : s.event_id;
  if (!ParseUint32(id, false, &out->event_id)) return ParseError::kNoEventId;
  // The host that logged the event. Winlogbeat's host.name is the machine Winlogbeat runs on:
  // on a Windows Event Forwarding collector, the collector, never the host that failed. It
  // stands in only for an ECS event with no winlog section (Elastic Agent on the host itself);
  // an event whose computer_name is empty is rejected rather than blamed on the collector.
  const bool ecs_only = envelope == Envelope::kWinlogbeat && !(s.seen & kSawWinlog);
  out->host.assign(!s.host.empty() || !ecs_only ? s.host : s.host_name);
  if (out->host.empty()) return ParseError::kNoHost;

  if (ParseError e = PickTime(envelope, &out->time); e != ParseError::kOk) return e;

  // NXLog EE renames the header pid ExecutionProcessID, so its ProcessID is event data. In CE
  // and Fluent Bit, ProcessID is the logging process (WAS writes 0): never the worker's pid.
  if (envelope == Envelope::kNxlog && (s.seen & kSawNxlogEe) && raw_.pid.empty()) {
    raw_.pid = s.process_id;
  }
  // NXLog's event data items are its top-level keys besides its own (and EE's ProcessID).
  if (envelope == Envelope::kNxlog && data_ != nullptr) {
    for (const auto& [name, text] : top_level_) data_->Add(name, text);
    if ((s.seen & kSawNxlogEe) && !s.process_id.empty()) data_->Add("ProcessID", s.process_id);
  }
  if (!s.record.empty() && !ParseUint64(s.record, &out->record_id)) return ParseError::kWrongType;
  out->provider_name.assign(s.provider);
  out->provider = Classify(s.provider);
  out->channel.assign(s.channel);
  out->level = LevelFrom(s.level);
  ResolveEventFields(raw_, out);
  return ParseError::kOk;
}

namespace {

// Where each envelope keeps the event's time, best first. `source`: written by the host that
// logged the event; `received`: stamped by a forwarder on the way (NXLog's EventReceivedTime,
// Logstash's or Fluent Bit's @timestamp), used only when the event carries no time of its own.
// NXLog events that reach Kafka through Logstash often have no EventTime, only TimeCreated
// (with a zone or without) and Logstash's @timestamp.
struct TimeSources {
  std::array<std::string_view EnvelopeParser::Slots::*, 2> source;
  std::array<std::string_view EnvelopeParser::Slots::*, 2> received;
};
using S = EnvelopeParser::Slots;

TimeSources TimeSourcesFor(Envelope envelope) {
  switch (envelope) {
    case Envelope::kNxlog:
      return {{&S::event_time, &S::time_created}, {&S::timestamp, &S::event_received_time}};
    case Envelope::kFluentBitWinevtlog:
      // Its @timestamp is the read time (a float by default, then not even read).
      return {{&S::time_created, nullptr}, {&S::timestamp, nullptr}};
    case Envelope::kFluentBitWinlog:
      return {{&S::time_generated, nullptr}, {&S::timestamp, nullptr}};
    case Envelope::kEvtxJson:  // System.TimeCreated's SystemTime
      return {{&S::time_created, nullptr}, {nullptr, nullptr}};
    default:  // Winlogbeat sets @timestamp to the event's own time
      return {{&S::timestamp, nullptr}, {nullptr, nullptr}};
  }
}

}  // namespace

ParseError EnvelopeParser::PickTime(Envelope envelope, absl::Time* out) const {
  // A source time with a zone, then one without (read in ingest.local_time_zone: NXLog CE writes
  // local time), then the forwarder's receive time the same way. The first that parses decides:
  // an implausible one (before 1970, from 2100) is a broken clock, rejected, not replaced.
  const TimeSources sources = TimeSourcesFor(envelope);
  auto pick = [&](const auto& fields, bool zoned) {
    for (auto field : fields) {
      if (field == nullptr) continue;
      const std::string_view text = slots_.*field;
      if (!text.empty() && HasZone(text) == zoned &&
          ParseIso8601(text, out, &options_.local_time_zone)) {
        return true;
      }
    }
    return false;
  };
  if (!pick(sources.source, true) && !pick(sources.source, false) &&
      !pick(sources.received, true) && !pick(sources.received, false)) {
    return ParseError::kBadTime;
  }
  return IsPlausibleEventTime(*out) ? ParseError::kOk : ParseError::kBadTime;
}

Provider EnvelopeParser::Classify(std::string_view provider_name) {
  if (provider_name != last_provider_name_) {
    last_provider_name_.assign(provider_name);
    last_provider_ = ClassifyProvider(provider_name);
  }
  return last_provider_;
}

ParseError EnvelopeParser::Walk(object root) {
  Slots& s = slots_;
  for (auto field : root) {
    std::string_view name;
    if (auto err = field.unescaped_key().get(name)) return FromSimdjson(err);
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    simdjson::error_code err = simdjson::SUCCESS;
    switch (LookupRootKey(name)) {
      case Key::kTimestamp: {
        // A string in Winlogbeat; Fluent Bit's float read time is not the event time.
        simdjson::ondemand::json_type type;
        if ((err = v.type().get(type)) == simdjson::SUCCESS &&
            type == simdjson::ondemand::json_type::string) {
          err = v.get_string().get(s.timestamp);
        }
        break;
      }
      case Key::kWinlog: {
        object winlog;
        if (auto e = v.get_object().get(winlog)) return FromSimdjson(e);
        s.seen |= kSawWinlog;
        if (ParseError pe = WalkWinlog(winlog); pe != ParseError::kOk) return pe;
        break;
      }
      case Key::kEventObject: {
        object event;
        if (v.get_object().get(event) != simdjson::SUCCESS) break;
        for (auto f : event) {
          std::string_view k;
          if ((err = f.unescaped_key().get(k))) break;
          if (k != "code" && k != "original") continue;
          value fv;
          if ((err = f.value().get(fv))) break;
          if ((err = ValueText(fv, k == "code" ? &s.event_code : &s.original))) break;
        }
        break;
      }
      case Key::kLogObject:
        err = FindText(v, "level", &s.level);
        break;
      case Key::kHostObject:
        err = FindText(v, "name", &s.host_name);
        break;
      case Key::kMessage:
        err = ValueText(v, &raw_.message);
        break;
      case Key::kEventIdWb6:
        s.seen |= kSawWinlogbeat6;
        err = ValueText(v, &s.event_id);
        break;
      case Key::kProviderWb6:
        s.seen |= kSawWinlogbeat6;
        err = ValueText(v, &s.provider);
        break;
      case Key::kHostWb6:
        s.seen |= kSawWinlogbeat6;
        err = ValueText(v, &s.host);
        break;
      case Key::kChannelWb6:
      case Key::kChannel:
        err = ValueText(v, &s.channel);
        break;
      case Key::kRecordWb6:
      case Key::kRecordNumber:
      case Key::kEventRecordId:
        err = ValueText(v, &s.record);
        break;
      case Key::kLevelWb6:
      case Key::kLevel:
      case Key::kEventType:
        err = ValueText(v, &s.level);
        break;
      case Key::kUserDataWb6: {
        // Read for all_fields only: no field the detectors use lives there.
        object data;
        if (data_ == nullptr || v.get_object().get(data) != simdjson::SUCCESS) break;
        for (auto f : data) {
          std::string_view k;
          if ((err = f.unescaped_key().get(k))) break;
          if (k == "xml_name") continue;  // Winlogbeat's name of the UserData element
          value fv;
          if ((err = f.value().get(fv))) break;
          if (ParseError pe = AddItem(k, fv, nullptr); pe != ParseError::kOk) return pe;
        }
        break;
      }
      case Key::kEvtxEvent: {
        object event;
        if (v.get_object().get(event) == simdjson::SUCCESS) {
          s.seen |= kSawEvtx;
          if (ParseError pe = WalkEvtxEvent(event); pe != ParseError::kOk) return pe;
          break;
        }
        [[fallthrough]];  // some other "Event": maybe an NXLog event data item
      }
      case Key::kOther: {
        // NXLog writes each named event data item as a top-level key.
        std::string_view* slot = raw_.SlotFor(name);
        if (data_ != nullptr) {
          std::string_view text;
          bool present = false;
          if ((err = ItemText(v, &text, &present))) break;
          if (slot != nullptr) *slot = text;
          if (present) top_level_.emplace_back(name, text);
        } else if (slot != nullptr) {
          err = ValueText(v, slot);
        }
        break;
      }
      case Key::kEventDataWb6:
      case Key::kEventDataMap: {
        object data;
        if (v.get_object().get(data) != simdjson::SUCCESS) break;
        if (ParseError pe = WalkNamedData(data); pe != ParseError::kOk) return pe;
        break;
      }
      case Key::kEventId:
        s.seen |= kSawUpperEventId;
        err = ValueText(v, &s.event_id);
        break;
      case Key::kSourceName:
        err = ValueText(v, &s.provider);
        break;
      case Key::kProviderName:
        s.seen |= kSawWinevtlog;
        err = ValueText(v, &s.provider);
        break;
      case Key::kHostname:
        s.seen |= kSawNxlog;
        err = ValueText(v, &s.host);
        break;
      case Key::kComputer:
        s.seen |= kSawWinevtlog;
        err = ValueText(v, &s.host);
        break;
      case Key::kComputerName:
        s.seen |= kSawWinlogLegacy;
        err = ValueText(v, &s.host);
        break;
      case Key::kEventTime:
        s.seen |= kSawNxlog;
        err = ValueText(v, &s.event_time);
        break;
      case Key::kTimeCreated:
        s.seen |= kSawWinevtlog;
        err = ValueText(v, &s.time_created);
        break;
      case Key::kTimeGenerated:
        s.seen |= kSawWinlogLegacy;
        err = ValueText(v, &s.time_generated);
        break;
      case Key::kEventReceivedTime:
        s.seen |= kSawNxlog;
        err = ValueText(v, &s.event_received_time);
        break;
      case Key::kProcessId:
        err = ValueText(v, &s.process_id);
        break;
      case Key::kExecutionProcessId:
        s.seen |= kSawNxlogEe;
        break;
      case Key::kSourceModuleType:
        s.seen |= kSawNxlog;
        break;
      case Key::kStringInserts: {
        array inserts;
        if (v.get_array().get(inserts) != simdjson::SUCCESS) break;
        if (ParseError pe = WalkInserts(inserts); pe != ParseError::kOk) return pe;
        break;
      }
      case Key::kData:
        err = ValueText(v, &raw_.binary);
        break;
    }
    if (err) return FromSimdjson(err);
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::WalkWinlog(object winlog) {
  Slots& s = slots_;
  for (auto field : winlog) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    simdjson::error_code err = simdjson::SUCCESS;
    if (key == "event_data" || key == "user_data") {
      object data;
      if (v.get_object().get(data) == simdjson::SUCCESS) {
        if (ParseError pe = WalkNamedData(data, key == "user_data"); pe != ParseError::kOk) {
          return pe;
        }
      }
    } else if (key == "provider_name") {
      err = ValueText(v, &s.provider);
    } else if (key == "channel") {
      err = ValueText(v, &s.channel);
    } else if (key == "event_id") {
      err = ValueText(v, &s.event_id);  // 7.x: number, 8.x: string
    } else if (key == "computer_name") {
      err = ValueText(v, &s.host);
    } else if (key == "record_id") {
      err = ValueText(v, &s.record);
    }
    if (err) return FromSimdjson(err);
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::WalkNamedData(object data, bool user_data) {
  for (auto field : data) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    std::string_view* slot = raw_.SlotFor(key);
    if (data_ == nullptr) {
      if (slot == nullptr) continue;  // never unescape a value nobody reads
      value v;
      if (auto err = field.value().get(v)) return FromSimdjson(err);
      if (auto err = ValueText(v, slot)) return FromSimdjson(err);
      continue;
    }
    // Winlogbeat names the UserData element xml_name; evtx_dump's attributes are no items.
    if ((user_data && key == "xml_name") || key == "#attributes") continue;
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    if (ParseError pe = AddItem(key, v, slot); pe != ParseError::kOk) return pe;
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::WalkInserts(array inserts) {
  size_t i = 0;
  for (auto element : inserts) {
    value v;
    if (auto err = element.get(v)) return FromSimdjson(err);
    std::string_view text;
    bool present = false;
    if (auto err = ItemText(v, &text, &present)) return FromSimdjson(err);  // strings or numbers
    if (i < RawFields::kMaxParams) raw_.params[i] = text;
    ++i;
    if (data_ != nullptr && present) AddParam(i, text);
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::AddItem(std::string_view name, value v, std::string_view* slot,
                                   bool element) {
  std::string_view text;
  bool present = false;
  if (auto err = ItemText(v, &text, &present)) return FromSimdjson(err);
  if (slot != nullptr) *slot = text;
  if (present) {
    data_->Add(name, text);
    return ParseError::kOk;
  }
  object obj;
  if (v.get_object().get(obj) == simdjson::SUCCESS) {
    for (auto field : obj) {
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
      if (key == "#attributes") continue;
      value child;
      if (auto err = field.value().get(child)) return FromSimdjson(err);
      // {"#attributes": ..., "#text": v}: an element with attributes, its text under its name;
      // the first is the slot's, as ElementText reads it without all_fields.
      const bool own_text = key == "#text";
      std::string_view* child_slot = own_text && element ? slot : nullptr;
      if (child_slot != nullptr) element = false;
      if (ParseError pe = AddItem(own_text ? name : key, child, child_slot);
          pe != ParseError::kOk) {
        return pe;
      }
    }
    return ParseError::kOk;
  }
  array elements;
  if (v.get_array().get(elements) == simdjson::SUCCESS) {
    for (auto element : elements) {
      value child;
      if (auto err = element.get(child)) return FromSimdjson(err);
      if (ParseError pe = AddItem(name, child, nullptr); pe != ParseError::kOk) return pe;
    }
  }
  return ParseError::kOk;  // null: no item
}

void EnvelopeParser::AddParam(size_t position, std::string_view text) {
  std::array<char, 32> name;
  data_->Add(ParamName(position, &name), text);
}

ParseError EnvelopeParser::WalkEvtxEvent(object event) {
  for (auto field : event) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    if (key != "System" && key != "EventData" && key != "UserData") continue;
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) continue;  // "EventData": null
    ParseError pe = key == "System"      ? WalkEvtxSystem(obj)
                    : key == "EventData" ? WalkEvtxEventData(obj)
                                         : WalkNamedData(obj, /*user_data=*/true);
    if (pe != ParseError::kOk) return pe;
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::WalkEvtxSystem(object system) {
  Slots& s = slots_;
  for (auto field : system) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    std::string_view* slot = key == "EventID"         ? &s.event_id
                             : key == "Level"         ? &s.level
                             : key == "EventRecordID" ? &s.record
                             : key == "Channel"       ? &s.channel
                             : key == "Computer"      ? &s.host
                                                      : nullptr;
    if (slot == nullptr && key != "Provider" && key != "TimeCreated") continue;
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    simdjson::error_code err = simdjson::SUCCESS;
    if (key == "Provider") {
      err = AttributeText(v, "Name", &s.provider);
    } else if (key == "TimeCreated") {
      err = AttributeText(v, "SystemTime", &s.time_created);
    } else {
      err = ElementText(v, slot);
    }
    if (err) return FromSimdjson(err);
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::WalkEvtxEventData(object data) {
  for (auto field : data) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    if (key == "#attributes") continue;
    if (key == "Data") {  // unnamed: "Data": "x", ["a", "b"] or {"#text": ["a", "b"]}
      value v;
      if (auto err = field.value().get(v)) return FromSimdjson(err);
      if (ParseError pe = WalkEvtxParams(v); pe != ParseError::kOk) return pe;
      continue;
    }
    std::string_view* slot = raw_.SlotFor(key);         // Binary included
    if (data_ == nullptr && slot == nullptr) continue;  // never unescape a value nobody reads
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    if (data_ == nullptr) {
      if (auto err = ElementText(v, slot)) return FromSimdjson(err);
    } else if (ParseError pe = AddItem(key, v, slot, /*element=*/true); pe != ParseError::kOk) {
      return pe;
    }
  }
  return ParseError::kOk;
}

ParseError EnvelopeParser::WalkEvtxParams(value data) {
  object obj;
  if (data.get_object().get(obj) == simdjson::SUCCESS) {
    for (auto field : obj) {
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
      if (key != "#text") continue;
      value text;
      if (auto err = field.value().get(text)) return FromSimdjson(err);
      return WalkEvtxParams(text);
    }
    return ParseError::kOk;
  }
  array inserts;
  if (data.get_array().get(inserts) == simdjson::SUCCESS) return WalkInserts(inserts);
  std::string_view text;
  bool present = false;
  if (auto err = ItemText(data, &text, &present)) return FromSimdjson(err);
  raw_.params[0] = text;
  if (data_ != nullptr && present) AddParam(1, text);
  return ParseError::kOk;
}

}  // namespace faultline

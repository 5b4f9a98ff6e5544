#include "ingest/parse/winlogbeat_parser.h"

#include "ingest/parse/json_value.h"
#include "ingest/parse/time_parse.h"

namespace faultline {
namespace {

using simdjson::ondemand::object;
using simdjson::ondemand::value;

uint8_t LevelFromName(std::string_view level) {
  if (level == "critical") return 1;
  if (level == "error") return 2;
  if (level == "warning") return 3;
  if (level == "information" || level == "info") return 4;
  if (level == "verbose") return 5;
  return 0;
}

// Walks a small nested object (event, log, host) for the one key we need, as text.
simdjson::error_code FindText(value v, std::string_view wanted, std::string_view* out) {
  object obj;
  if (v.get_object().get(obj) != simdjson::SUCCESS) return simdjson::SUCCESS;  // not an object
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

}  // namespace

ParseError WinlogbeatParser::Parse(std::string_view message, Event* out) {
  out->Clear();
  raw_.Clear();
  event_code_ = {};
  host_name_ = {};
  have_event_id_ = false;
  simdjson::ondemand::document doc;
  if (auto err = IteratePadded(parser_, message, buffer_, &doc)) return FromSimdjson(err);
  object root;
  if (auto err = doc.get_object().get(root)) {
    return err == simdjson::INCORRECT_TYPE ? RootNotObject(doc) : FromSimdjson(err);
  }
  std::string_view timestamp, level;
  bool saw_winlog = false;
  for (auto field : root) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    simdjson::error_code err = simdjson::SUCCESS;
    if (key == "@timestamp") {
      err = v.get_string().get(timestamp);
    } else if (key == "winlog") {
      object winlog;
      if (auto e = v.get_object().get(winlog)) return FromSimdjson(e);
      if (ParseError pe = ParseWinlog(winlog, out); pe != ParseError::kOk) return pe;
      saw_winlog = true;
    } else if (key == "message") {
      err = ValueText(v, &raw_.message);
    } else if (key == "event") {
      err = FindText(v, "code", &event_code_);
    } else if (key == "log") {
      err = FindText(v, "level", &level);
    } else if (key == "host") {
      err = FindText(v, "name", &host_name_);
    }
    if (err) return FromSimdjson(err);
  }
  if (!saw_winlog && event_code_.empty()) return ParseError::kUnknownEnvelope;

  // Event id 0 is real (FreeSSHDService logs it), so presence is tracked separately.
  if (!have_event_id_ && !ParseUint32(event_code_, false, &out->event_id)) {
    return ParseError::kNoEventId;
  }
  if (out->host.empty()) out->host.assign(host_name_);
  if (out->host.empty()) return ParseError::kNoHost;
  if (!ParseIso8601(timestamp, &out->time)) return ParseError::kBadTime;
  out->level = LevelFromName(level);
  out->provider = ClassifyProvider(out->provider_name);
  ResolveEventFields(raw_, out);
  return ParseError::kOk;
}

ParseError WinlogbeatParser::ParseWinlog(object winlog, Event* out) {
  for (auto field : winlog) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    std::string_view text;
    if (key == "event_data") {
      object data;
      if (v.get_object().get(data) == simdjson::SUCCESS) {
        if (ParseError pe = ParseEventData(data); pe != ParseError::kOk) return pe;
      }
      continue;
    }
    if (key != "provider_name" && key != "channel" && key != "event_id" && key != "computer_name" &&
        key != "record_id") {
      continue;
    }
    if (auto err = ValueText(v, &text)) return FromSimdjson(err);
    if (key == "provider_name") {
      out->provider_name.assign(text);
    } else if (key == "channel") {
      out->channel.assign(text);
    } else if (key == "computer_name") {
      out->host.assign(text);
    } else if (key == "event_id") {
      // 7.x writes a number, 8.x a string: ValueText reads both.
      if (!ParseUint32(text, false, &out->event_id)) return ParseError::kNoEventId;
      have_event_id_ = true;
    } else if (key == "record_id") {
      if (text.size() > 19) return ParseError::kWrongType;
      uint64_t record = 0;
      for (char c : text) {
        if (c < '0' || c > '9') return ParseError::kWrongType;
        record = record * 10 + (c - '0');
      }
      out->record_id = record;
    }
  }
  return ParseError::kOk;
}

ParseError WinlogbeatParser::ParseEventData(object data) {
  for (auto field : data) {
    std::string_view key, text;
    if (auto err = field.unescaped_key().get(key)) return FromSimdjson(err);
    value v;
    if (auto err = field.value().get(v)) return FromSimdjson(err);
    if (auto err = ValueText(v, &text)) return FromSimdjson(err);
    raw_.Add(key, text);
  }
  return ParseError::kOk;
}

}  // namespace faultline

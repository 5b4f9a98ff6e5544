// A minimal JSON writer for what is built by hand: the sinks' request bodies (PagerDuty, Slack,
// Teams, Opsgenie, Alertmanager) and the configuration's JSON Schema. Keys in the order written,
// strings escaped per RFC 8259. The stable alert shape itself is printed by protobuf
// (core/alert.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace faultline {

// Appends `s` escaped for the inside of a JSON string (no quotes).
void AppendJsonEscaped(std::string* out, std::string_view s);
// `s` as a JSON string, quotes included.
std::string JsonQuoted(std::string_view s);

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Number(int64_t value);
  JsonWriter& Bool(bool value);
  // A value that is already JSON (an object printed elsewhere).
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void Separate();

  std::string out_;
  bool first_ = true;  // no comma before the next value
  bool after_key_ = false;
};

}  // namespace faultline

// The envelope-independent half of parsing. An envelope parser (Winlogbeat, NXLog, ...) finds the
// event header and collects the event data it sees into RawFields; ResolveEventFields then fills
// the detector fields of Event the same way for every envelope: by name when the data is named,
// else by the per-event-id position of the insertion string, else from the message text.
#pragma once

#include <array>
#include <string_view>

#include "core/event.h"

namespace faultline {

// Views into the parser's buffer; valid until the next message is parsed.
struct RawFields {
  static constexpr int kMaxParams = 16;

  // Named event data (Data Name="..."), by the names real providers use.
  std::string_view app_pool;         // AppPoolID, AppPoolName
  std::string_view pid;              // ProcessID, ProcessId
  std::string_view exit_code;        // ExitCode
  std::string_view faulting_app;     // AppName, P1 (named WER)
  std::string_view faulting_module;  // ModuleName, P4 (named WER)
  std::string_view exception_code;   // ExceptionCode, P7 (named WER)
  // Unnamed event data by position: params[0] is %1 (Winlogbeat "param1").
  std::array<std::string_view, kMaxParams> params{};
  std::string_view message;
  std::string_view binary;      // hex: SCM service key name (UTF-16LE), WAS HRESULT, ...
  std::string_view module_dll;  // ModuleDll (IIS-W3SVC-WP 2280/2282)

  // Where an event data item of this name goes, or null if faultline does not use it. Parsers
  // ask before reading the value, so unused values are never unescaped.
  std::string_view* SlotFor(std::string_view name);
  // Records one event data item; returns false if the name is not one faultline uses.
  bool Add(std::string_view name, std::string_view value) {
    std::string_view* slot = SlotFor(name);
    if (slot != nullptr) *slot = value;
    return slot != nullptr;
  }
  void Clear() { *this = RawFields{}; }
};

// The name of unnamed event data item `position` (1-based) in Event::data: "param1", "param2", ...
// as Winlogbeat names them. Written into `buffer`; no allocation.
std::string_view ParamName(size_t position, std::array<char, 32>* buffer);

// Fills app_pool, pid, exit_code, exception_code, faulting_app, faulting_module, service and
// occurrences of `event` (whose provider and event_id are already set) from `raw`.
void ResolveEventFields(const RawFields& raw, Event* event);

// Number parsing used by every envelope: decimal, or hex with or without "0x" when hex is
// true or the text starts with "0x". Returns false on anything else or on overflow.
bool ParseUint32(std::string_view text, bool hex, uint32_t* out);
// Decimal only, up to 19 digits.
bool ParseUint64(std::string_view text, uint64_t* out);

// Decodes the Binary of a Service Control Manager event, UTF-16LE text, into UTF-8 in `out`,
// stopping at a NUL. Windows' XML (and Winlogbeat, NXLog) render it as hex, python-evtx (the
// SigmaHQ regression data) as base64: both are read, so one service keeps one key whoever
// rendered it. Any character is kept ("Müller", surrogate pairs); false (and `out` empty) if the
// text is neither encoding, or decodes to something that is not a name (a control character, an
// unpaired surrogate), so the caller falls back to the display name.
bool DecodeUtf16LeBinary(std::string_view binary, std::string* out);

}  // namespace faultline

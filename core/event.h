// The normalized Windows event: what every forwarder envelope is parsed into and what detectors
// read. A plain struct reused across messages (parsers assign into it, so its strings keep their
// capacity and the steady state allocates nothing). The wire form is proto/event.proto.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "core/event_data.h"
#include "core/windows_events.h"

namespace faultline {

// Where a message came from, so a dead letter or a log line can point back at it.
struct Origin {
  int32_t partition = -1;  // -1 for files
  int64_t offset = -1;     // Kafka offset, or line number for files
  // The record's Kafka timestamp (append time, or the producer's create time) when known;
  // InfinitePast for files. The engine's arrival clock runs on it (detect/time/event_clocks.h).
  absl::Time broker_time = absl::InfinitePast();
  // Read again to rebuild state after an assignment (a restart, a rebalance): processed and
  // committed before, so it was counted then and what it raised about its host was delivered.
  // Handlers rebuild their state from it; nothing is counted or sent again.
  bool replayed = false;
};

struct Event {
  // Event time (UTC) as the source system logged it; the engine corrects it by the host's
  // measured clock offset before detectors see it (a host whose clock runs a day ahead).
  absl::Time time = absl::InfinitePast();
  std::string host;                      // computer that logged the event
  std::string provider_name;             // as sent by the forwarder
  Provider provider = Provider::kOther;  // provider_name classified
  std::string channel;
  uint32_t event_id = 0;
  uint8_t level = 0;  // 1 critical, 2 error, 3 warning, 4 information; 0 unknown
  uint64_t record_id = 0;

  // Fields pulled out of the event data for the detectors; empty / 0 / nullopt when absent.
  std::string app_pool;
  uint32_t pid = 0;
  std::optional<uint32_t> exit_code;       // WAS 5009 / W3SVC 1009
  std::optional<uint32_t> exception_code;  // Application Error 1000, WER 1001
  std::string service;                     // SCM 7031/7034
  uint32_t occurrences = 0;                // SCM "done this N time(s)"
  std::string faulting_app;                // Application Error 1000 / WER 1001 (e.g. w3wp.exe)
  std::string faulting_module;
  // Companion events only (IsCompanion): the failing module DLL, else the message's first line.
  std::string detail;
  // Every event data item by name, when the parser was asked for them (Sigma rules); else empty.
  EventData data;

  Origin origin;
  // When the message reached faultline on the engine's arrival clock (broker time, or the stream
  // clock of a file); set by the engine.
  absl::Time arrival = absl::InfinitePast();
  // The engine's reference to the host's clock (detect/watermarks.h HostRef), for detectors to
  // read their host's time by; 0 until the engine set it.
  uint64_t host_clock = 0;

  // Resets every field, keeping string capacity.
  void Clear();
};

}  // namespace faultline

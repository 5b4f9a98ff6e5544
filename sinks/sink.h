// A Sink delivers alerts to one destination (stdout, a webhook, Alertmanager, a Kafka topic).
// Today sinks are called synchronously on the detect thread after each message; the dispatcher
// that gives every sink its own queue and thread (issue 5) wraps this same interface.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "core/alert.h"

namespace faultline {

// A sink's configuration as written under `sinks:`: its type and its own string options, which
// the sink's factory validates (unknown options are errors).
struct SinkSpec {
  std::string type;
  std::map<std::string, std::string> options;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual std::string_view name() const = 0;
  // Delivers one alert. Errors: kUnavailable (peer down; retry later), kInvalidArgument (the
  // peer refused this alert; do not retry).
  virtual absl::Status Send(const Alert& alert) = 0;
  // Makes everything sent so far durable at the destination (flushes buffers).
  virtual absl::Status Flush() = 0;
};

}  // namespace faultline

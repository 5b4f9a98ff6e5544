// The sink plugins this build knows, by type name. Filled by explicit calls from app/
// (RegisterBuiltinSinks).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "sinks/options.h"
#include "sinks/sink.h"

namespace faultline {

// What a sink may need from its host process, so adding an injectable does not change every
// factory's signature.
struct SinkContext {
  std::FILE* stdout_stream = stdout;
  Clock* clock = &RealClock::Get();
  // kafka.brokers and kafka.properties of the configuration: the Kafka alerts sink's defaults.
  std::string kafka_brokers;
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  // check-config: validate everything, create nothing that connects or writes.
  bool dry_run = false;
};

class SinkRegistry {
 public:
  // A factory reads its options from `options` (unknown ones are reported by the registry) and
  // returns the sink, or an error it cannot express as a bad option.
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Sink>>(SinkOptions& options,
                                                                      const SinkContext& ctx)>;
  void Register(std::string type, Factory factory);
  // kNotFound naming the known types when the type is unknown; kInvalidArgument listing every
  // bad or unknown option; the factory's own error otherwise.
  absl::StatusOr<std::unique_ptr<Sink>> Create(SinkOptions& options, const SinkContext& ctx) const;
  std::vector<std::string> types() const;

 private:
  std::vector<std::pair<std::string, Factory>> factories_;
};

}  // namespace faultline

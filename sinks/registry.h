// The sink plugins this build knows, by type name. Filled by explicit calls from app/
// (RegisterBuiltinSinks).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sinks/sink.h"

namespace faultline {

// What a sink may need from its host process, so adding an injectable does not change every
// factory's signature.
struct SinkContext {
  std::FILE* stdout_stream = stdout;
};

class SinkRegistry {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Sink>>(const SinkSpec& spec,
                                                                      const SinkContext& ctx)>;
  void Register(std::string type, Factory factory);
  // kNotFound naming the known types when `spec.type` is unknown; the factory's error otherwise.
  absl::StatusOr<std::unique_ptr<Sink>> Create(const SinkSpec& spec, const SinkContext& ctx) const;
  std::vector<std::string> types() const;

 private:
  std::vector<std::pair<std::string, Factory>> factories_;
};

}  // namespace faultline

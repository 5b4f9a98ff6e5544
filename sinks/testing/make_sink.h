// Builds one sink the way BuildPipeline does (through a registry, so unknown and bad options
// are reported the same way), for the sinks' own tests.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sinks/registry.h"

namespace faultline::testing {

inline absl::StatusOr<std::unique_ptr<Sink>> MakeSink(const std::string& type,
                                                      SinkRegistry::Factory factory,
                                                      std::map<std::string, OptionValue> options,
                                                      const SinkContext& ctx = {}) {
  SinkRegistry registry;
  registry.Register(type, std::move(factory));
  SinkOptions o(SinkSpec{.type = type, .options = std::move(options)});
  return registry.Create(o, ctx);
}

}  // namespace faultline::testing

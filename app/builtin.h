// The explicit list of plugins compiled into faultline. To add a detector or a sink: write it in
// its own folder under detect/ or sinks/, then add one line here.
#pragma once

#include "detect/registry.h"
#include "sinks/registry.h"

namespace faultline {

void RegisterBuiltinDetectors(DetectorRegistry& registry);
void RegisterBuiltinSinks(SinkRegistry& registry);

// The registries filled with the built-in plugins, built once.
const DetectorRegistry& BuiltinDetectors();
const SinkRegistry& BuiltinSinks();

}  // namespace faultline

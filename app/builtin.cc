#include "app/builtin.h"

#include "detect/iis/rapid_fail_detector.h"
#include "sinks/stdout/stdout_sink.h"

namespace faultline {

void RegisterBuiltinDetectors(DetectorRegistry& registry) {
  registry.Register("iis_rapid_fail", &RapidFailDetector::Create);
}

void RegisterBuiltinSinks(SinkRegistry& registry) {
  registry.Register("stdout", &StdoutSink::Create);
}

}  // namespace faultline

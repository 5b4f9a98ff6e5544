#include "app/builtin.h"

#include "detect/fleet/fleet_app_pool_detector.h"
#include "detect/iis/rapid_fail_detector.h"
#include "detect/service/service_crash_loop_detector.h"
#include "sinks/stdout/stdout_sink.h"

namespace faultline {

void RegisterBuiltinDetectors(DetectorRegistry& registry) {
  registry.Register("iis_rapid_fail", &RapidFailDetector::Create);
  registry.Register("service_crash_loop", &ServiceCrashLoopDetector::Create);
  registry.Register("fleet_app_pool_failures", &FleetAppPoolDetector::Create);
}

void RegisterBuiltinSinks(SinkRegistry& registry) {
  registry.Register("stdout", &StdoutSink::Create);
}

}  // namespace faultline

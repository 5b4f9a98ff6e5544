#include "app/builtin.h"

#include "detect/fleet/fleet_app_pool_detector.h"
#include "detect/iis/rapid_fail_detector.h"
#include "detect/service/service_crash_loop_detector.h"
#include "detect/sigma/sigma_detector.h"
#include "sinks/alertmanager/alertmanager_sink.h"
#include "sinks/file/file_sink.h"
#include "sinks/kafka/kafka_sink.h"
#include "sinks/opsgenie/opsgenie_sink.h"
#include "sinks/teams/teams_sink.h"
#include "sinks/webhook/webhook_sink.h"

namespace faultline {

void RegisterBuiltinDetectors(DetectorRegistry& registry) {
  registry.Register("iis_rapid_fail", RapidFailConfig::Schema(), &RapidFailDetector::Create);
  registry.Register("service_crash_loop", ServiceCrashLoopConfig::Schema(),
                    &ServiceCrashLoopDetector::Create);
  registry.Register("fleet_app_pool_failures", FleetConfig::Schema(),
                    &FleetAppPoolDetector::Create);
  registry.Register("sigma", SigmaConfig::Schema(), &SigmaDetector::Create);
}

void RegisterBuiltinSinks(SinkRegistry& registry) {
  registry.Register("stdout", FileSink::StdoutConfig::Schema(), &FileSink::CreateStdout);
  registry.Register("file", FileSink::FileConfig::Schema(), &FileSink::CreateFile);
  registry.Register("webhook", WebhookSink::Config::WebhookSchema(), &WebhookSink::Create);
  registry.Register("pagerduty", WebhookSink::Config::PagerDutySchema(),
                    &WebhookSink::CreatePagerDuty);
  registry.Register("slack", WebhookSink::Config::SlackSchema(), &WebhookSink::CreateSlack);
  registry.Register("alertmanager", AlertmanagerSink::Config::Schema(), &AlertmanagerSink::Create);
  registry.Register("kafka", KafkaSink::Config::Schema(), &KafkaSink::Create);
  registry.Register("teams", TeamsSink::Config::Schema(), &TeamsSink::Create);
  registry.Register("opsgenie", OpsgenieSink::Config::Schema(), &OpsgenieSink::Create);
}

namespace {

// A registry filled once by `fill`, never destroyed (plugins are looked up until exit).
template <typename Registry>
const Registry& Filled(void (*fill)(Registry&)) {
  auto* registry = new Registry();
  fill(*registry);
  return *registry;
}

}  // namespace

const DetectorRegistry& BuiltinDetectors() {
  static const DetectorRegistry& registry = Filled(&RegisterBuiltinDetectors);
  return registry;
}

const SinkRegistry& BuiltinSinks() {
  static const SinkRegistry& registry = Filled(&RegisterBuiltinSinks);
  return registry;
}

}  // namespace faultline

#include "app/builtin.h"

#include "detect/fleet/fleet_app_pool_detector.h"
#include "detect/iis/rapid_fail_detector.h"
#include "detect/service/service_crash_loop_detector.h"
#include "sinks/alertmanager/alertmanager_sink.h"
#include "sinks/file/file_sink.h"
#include "sinks/kafka/kafka_sink.h"
#include "sinks/webhook/webhook_sink.h"

namespace faultline {

void RegisterBuiltinDetectors(DetectorRegistry& registry) {
  registry.Register("iis_rapid_fail", &RapidFailDetector::Create);
  registry.Register("service_crash_loop", &ServiceCrashLoopDetector::Create);
  registry.Register("fleet_app_pool_failures", &FleetAppPoolDetector::Create);
}

void RegisterBuiltinSinks(SinkRegistry& registry) {
  registry.Register("stdout", &FileSink::CreateStdout);
  registry.Register("file", &FileSink::CreateFile);
  registry.Register("webhook", &WebhookSink::CreateWebhook);
  registry.Register("pagerduty", &WebhookSink::CreatePagerDuty);
  registry.Register("slack", &WebhookSink::CreateSlack);
  registry.Register("alertmanager", &AlertmanagerSink::Create);
  registry.Register("kafka", &KafkaSink::Create);
}

}  // namespace faultline

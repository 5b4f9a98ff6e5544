#include "app/demo/demo.h"

#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "app/kafka_publish.h"
#include "app/service.h"
#include "core/log.h"
#include "librdkafka/rdkafka_mock.h"

namespace faultline {

absl::Status RunDemo(bool json, std::atomic<bool>& stop) {
  const std::string topic = "winlogbeat";
  // The producer hosts librdkafka's in-process mock cluster; it must outlive the consumer.
  absl::StatusOr<KafkaClient> producer =
      NewPublisher("", {{"test.mock.num.brokers", "1"}, {"log_level", "4"}});
  if (!producer.ok()) return absl::InternalError(producer.status().message());
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer->get());
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  rd_kafka_mock_topic_create(cluster, topic.c_str(), 1, 1);
  std::vector<KafkaRecord> records = SplitLines(kDemoIncidentJsonl, "EXCH01");
  StampWithEventTimes(records);  // as Winlogbeat sends them: the incident is live, not a backlog
  if (absl::Status s = PublishAll(producer->get(), topic, records); !s.ok()) {
    return absl::InternalError(s.message());
  }
  std::fprintf(stderr,
               "demo: published %zu Winlogbeat 8 events of the MSExchangeOWAAppPool incident to "
               "topic '%s' on the in-process mock cluster %s\n"
               "demo: consuming them through the Kafka source (joining the group takes a few "
               "seconds)...\n\n",
               records.size(), topic.c_str(), bootstrap.c_str());

  Config config;
  config.kafka.brokers = bootstrap;
  config.kafka.topics = {topic};
  config.kafka.group_id = "faultline-demo";
  config.kafka.stop_at_end = true;
  config.sinks = StdoutSinks(/*text=*/!json);
  SetLogLevel(LogLevel::kWarning);  // the demo's own lines say what happens
  absl::StatusOr<std::unique_ptr<Service>> service = Service::Create(config, {});
  if (!service.ok()) return absl::InternalError(service.status().message());

  // A watchdog: the demo ends by itself even if the mock cluster misbehaves.
  std::atomic<bool> done{false}, expired{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 600 && !done.load(); ++i) {
      RealClock::Get().SleepFor(absl::Milliseconds(100));
    }
    if (!done.load()) {
      expired.store(true);
      stop.store(true);
    }
  });
  absl::Status status = (*service)->Run(stop);
  done.store(true);
  watchdog.join();
  std::fprintf(stderr, "\ndemo: %s\n", (*service)->SummaryJson().c_str());
  if (!status.ok()) return status;
  if (expired.load()) return absl::DeadlineExceededError("demo: no end of topic after 60s");
  if (stop.load()) return absl::CancelledError("demo: interrupted");
  return absl::OkStatus();
}

}  // namespace faultline

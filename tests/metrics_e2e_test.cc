// The Prometheus endpoint of a live `faultline run` (real broker): it passes `promtool check
// metrics`, answers /healthz and /readyz, and the real Prometheus (Debian's) scrapes it.
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/kafka/producer.h"
#include "core/testing/child_process.h"
#include "core/testing/eventually.h"
#include "core/testing/kafka_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/testing/peer_process.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::HttpGet;
using testing::PrometheusQuery;

TEST(MetricsEndToEndTest, ALiveFaultlineIsCheckedByPromtoolAndScrapedByPrometheus) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  FAULTLINE_REQUIRE_BINARY(testing::kPrometheusBinary);
  FAULTLINE_REQUIRE_BINARY("/usr/bin/promtool");
  const std::string topic = testing::UniqueName("metrics");
  std::vector<KafkaRecord> records;
  {
    std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl");
    for (std::string line; std::getline(in, line);) records.push_back({"EXCH01", line});
  }
  records.push_back({"EXCH01", "not json"});
  ASSERT_TRUE(testing::Publish(brokers, topic, records).ok());

  const std::string config = ::testing::TempDir() + "/" + topic + ".yaml";
  std::ofstream(config)
      << "kafka:\n  brokers: " << brokers << "\n  topics: [" << topic
      << "]\n  group_id: " << testing::UniqueName("faultline-metrics")
      << "\ndetect:\n  max_event_age: 0s\n"  // last March's incident, published now
      << "sinks:\n  - type: file\n    path: " << ::testing::TempDir() << "/" << topic << ".jsonl\n";
  const std::string listen = absl::StrCat("127.0.0.1:", testing::FreePort());
  const std::string base = "http://" + listen;
  const std::string log = ::testing::TempDir() + "/" + topic + ".log";
  testing::ChildProcess run({std::string(FAULTLINE_BINARY_DIR) + "/faultline", "run", "--config",
                             config, "--metrics-listen", listen, "--progress-every", "0"},
                            {}, log);

  ASSERT_TRUE(testing::Eventually([&] { return HttpGet(base + "/readyz").first == 200; },
                                  absl::Seconds(60), absl::Milliseconds(200)))
      << "never joined the group";
  EXPECT_EQ(HttpGet(base + "/healthz"), std::make_pair(200L, std::string("ok\n")));
  // Partition figures are refreshed every second by the consumer thread.
  const std::string position =
      "faultline_kafka_position_offset{topic=\"" + topic + "\",partition=\"0\"} 8\n";
  std::string text;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        text = HttpGet(base + "/metrics").second;
        return text.find("faultline_sink_delivered_total{sink=\"file\",type=\"file\"} 3\n") !=
                   std::string::npos &&
               text.find(position) != std::string::npos;
      },
      absl::Seconds(30), absl::Milliseconds(200)))
      << text;
  EXPECT_THAT(text, HasSubstr("faultline_events_consumed_total 8\n"));
  EXPECT_THAT(text, HasSubstr("faultline_events_rejected_total{reason=\"not_json\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("faultline_kafka_consumer_lag{topic=\"" + topic + "\",partition=\"0\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("faultline_broker_to_alert_seconds_count 3\n"));

  // promtool on the live endpoint's answer, as a CI lint would run it.
  const std::string scraped = ::testing::TempDir() + "/" + topic + ".prom";
  std::ofstream(scraped) << text;
  const int rc = std::system(
      ("/usr/bin/promtool check metrics < " + scraped + " > " + scraped + ".out 2>&1").c_str());
  std::ifstream said_in(scraped + ".out");
  const std::string said((std::istreambuf_iterator<char>(said_in)),
                         std::istreambuf_iterator<char>());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << said;
  EXPECT_EQ(said, "");

  testing::Prometheus prometheus = testing::StartPrometheus(topic, listen);
  ASSERT_NE(prometheus.process, nullptr) << "Prometheus did not become ready";
  EXPECT_TRUE(testing::Eventually(
      [&] { return PrometheusQuery(prometheus.url, "faultline_events_consumed_total") == "8"; },
      absl::Seconds(30), absl::Milliseconds(200)))
      << "Prometheus did not scrape the events counter";
  EXPECT_EQ(PrometheusQuery(prometheus.url, "up%7Bjob%3D%22faultline%22%7D"), "1");
  EXPECT_EQ(PrometheusQuery(prometheus.url,
                            "sum(faultline_alerts_total%7Brule%3D%22iis_app_pool_disabled%22%7D)"),
            "1");

  EXPECT_EQ(run.SignalAndWait(SIGTERM, absl::Seconds(30)), 0);
}

}  // namespace
}  // namespace faultline

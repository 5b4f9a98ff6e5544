#include "app/config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

TEST(ParseConfigTest, AnEmptyFileMeansAllDefaults) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->detect.iis_rapid_fail.max_crashes, 5);
  EXPECT_EQ(c->detect.iis_rapid_fail.interval, absl::Minutes(5));
  EXPECT_EQ(c->kafka.group_id, "faultline");
  ASSERT_EQ(c->sinks.size(), 1u);
  EXPECT_EQ(c->sinks[0].type, "stdout");
}

TEST(ParseConfigTest, ReadsEverySection) {
  auto c = ParseConfig(R"(
kafka:
  brokers: 10.0.0.1:9092,10.0.0.2:9092
  topics: [winlogbeat, nxlog]
  group_id: faultline-prod
  commit_interval: 2s
  properties:
    security.protocol: SASL_SSL
ingest:
  max_message_bytes: 65536
detect:
  labels: {team: web}
  iis_rapid_fail:
    max_crashes: 10
    interval: 10m
    burst_threshold: 4
    rules: {iis_worker_failure_burst: false}
sinks:
  - type: stdout
    format: text
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kafka.brokers, "10.0.0.1:9092,10.0.0.2:9092");
  EXPECT_EQ(c->kafka.topics, (std::vector<std::string>{"winlogbeat", "nxlog"}));
  EXPECT_EQ(c->kafka.commit_interval, absl::Seconds(2));
  ASSERT_EQ(c->kafka.properties.size(), 1u);
  EXPECT_EQ(c->kafka.properties[0].first, "security.protocol");
  EXPECT_EQ(c->max_message_bytes, 65536u);
  EXPECT_EQ(c->detect.labels.at("team"), "web");
  EXPECT_EQ(c->detect.iis_rapid_fail.max_crashes, 10);
  EXPECT_EQ(c->detect.iis_rapid_fail.interval, absl::Minutes(10));
  EXPECT_FALSE(c->detect.iis_rapid_fail.burst_enabled);
  EXPECT_TRUE(c->detect.iis_rapid_fail.imminent_enabled);
  EXPECT_EQ(c->sinks[0].options.at("format").scalar, "text");
}

TEST(ParseConfigTest, ReadsDeliveryMetricsAndSinkOptionsOfEveryShape) {
  auto c = ParseConfig(R"(
delivery:
  queue_capacity: 500
  on_full: drop
  retry_backoff: 2s
  retry_backoff_max: 30s
  shutdown_timeout: 20s
  spool_dir: /var/lib/faultline/spool
metrics:
  listen: 0.0.0.0:9464
sinks:
  - type: alertmanager
    url: [http://am1:9093, http://am2:9093]
    headers: {Authorization: Bearer x}
    resend_interval: 30s
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->delivery.queue_capacity, 500u);
  EXPECT_TRUE(c->delivery.drop_when_full);
  EXPECT_EQ(c->delivery.retry_backoff, absl::Seconds(2));
  EXPECT_EQ(c->delivery.retry_backoff_max, absl::Seconds(30));
  EXPECT_EQ(c->delivery.shutdown_timeout, absl::Seconds(20));
  EXPECT_EQ(c->delivery.spool_dir, "/var/lib/faultline/spool");
  EXPECT_EQ(c->metrics.listen, "0.0.0.0:9464");
  ASSERT_EQ(c->sinks.size(), 1u);
  const SinkSpec& am = c->sinks[0];
  EXPECT_EQ(am.options.at("url").kind, OptionValue::Kind::kList);
  EXPECT_EQ(am.options.at("url").list,
            (std::vector<std::string>{"http://am1:9093", "http://am2:9093"}));
  EXPECT_EQ(am.options.at("headers").map.at("Authorization"), "Bearer x");
  EXPECT_EQ(am.options.at("resend_interval").scalar, "30s");
}

TEST(ParseConfigTest, ReportsBadDeliverySettingsWithTheirPath) {
  auto c = ParseConfig(R"(
delivery:
  queue_capacity: 0
  on_full: block
  retry_backoff: 10s
  retry_backoff_max: 1s
  shutdown: 5s
metrics:
  listen: 9464
sinks:
  - type: webhook
    headers: {X-Nested: {a: b}}
)");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("delivery.queue_capacity: must be positive"));
  EXPECT_THAT(m, HasSubstr("delivery.on_full: must be backpressure or drop, got \"block\""));
  EXPECT_THAT(m, HasSubstr("delivery.retry_backoff_max: must not be shorter than retry_backoff"));
  EXPECT_THAT(m, HasSubstr("delivery.shutdown: unknown key"));
  EXPECT_THAT(m, HasSubstr("metrics.listen: must be host:port"));
  EXPECT_THAT(m, HasSubstr("sinks[0].headers.X-Nested: must be a string"));
}

TEST(ParseConfigTest, ReportsEveryErrorAtOnceWithItsPath) {
  auto c = ParseConfig(R"(
kafka:
  brokers: x
  topic: typo
  commit_interval: soon
detect:
  iis_rapid_fail:
    max_crashes: five
    interval: 5 minutes
  bogus: 1
sinks: stdout
)");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("kafka.topic: unknown key"));
  EXPECT_THAT(m, HasSubstr("kafka.commit_interval: must be a duration"));
  EXPECT_THAT(m,
              HasSubstr("detect.iis_rapid_fail.max_crashes: must be a whole number, got \"five\""));
  EXPECT_THAT(m, HasSubstr("detect.iis_rapid_fail.interval: must be a duration"));
  EXPECT_THAT(m, HasSubstr("detect.bogus: unknown key"));
  EXPECT_THAT(m, HasSubstr("sinks: must be a list"));
}

TEST(ParseConfigTest, ReadsOverridesAndEveryDetectorSection) {
  auto c = ParseConfig(R"(
detect:
  allowed_lateness: 30s
  renotify_interval: 15m
  max_keys: 5000
  iis_rapid_fail:
    disabled_resolve_after: 2h
    overrides:
      - {app_pool: "MSExchange*", max_crashes: 10}
      - {host: "LAB*", interval: 1m, burst_threshold: 2}
  service_crash_loop: {threshold: 4, window: 15m}
  fleet_app_pool_failures: {enabled: false, min_hosts: 5}
)");
  ASSERT_TRUE(c.ok()) << c.status();
  const DetectConfig& d = c->detect;
  EXPECT_EQ(d.allowed_lateness, absl::Seconds(30));
  EXPECT_EQ(d.renotify_interval, absl::Minutes(15));
  EXPECT_EQ(d.max_keys, 5000);
  EXPECT_EQ(d.iis_rapid_fail.disabled_resolve_after, absl::Hours(2));
  ASSERT_EQ(d.iis_rapid_fail.overrides.size(), 2u);
  EXPECT_EQ(d.iis_rapid_fail.overrides[0].app_pool, "MSExchange*");
  EXPECT_EQ(d.iis_rapid_fail.overrides[0].host, "*");
  EXPECT_EQ(d.iis_rapid_fail.overrides[0].max_crashes, 10);
  EXPECT_FALSE(d.iis_rapid_fail.overrides[0].interval.has_value());
  EXPECT_EQ(d.iis_rapid_fail.overrides[1].interval, absl::Minutes(1));
  EXPECT_EQ(d.service_crash_loop.threshold, 4);
  EXPECT_FALSE(d.fleet_app_pool_failures.enabled);
  EXPECT_EQ(d.fleet_app_pool_failures.min_hosts, 5);
}

TEST(ParseConfigTest, NamesTheOverrideThatIsWrong) {
  auto c = ParseConfig(R"(
detect:
  iis_rapid_fail:
    overrides:
      - {app_pool: "A*", max_crashes: ten}
      - {pool: "B*"}
)");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m,
              HasSubstr("detect.iis_rapid_fail.overrides[0].max_crashes: must be a whole number"));
  EXPECT_THAT(m, HasSubstr("detect.iis_rapid_fail.overrides[1].pool: unknown key"));
}

TEST(ParseConfigTest, RejectsInvalidYamlWithItsLine) {
  auto c = ParseConfig("kafka:\n  brokers: [unclosed\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("not valid YAML"));
}

TEST(ParseConfigTest, RejectsAnOffsetResetThatLibrdkafkaWouldNotKnow) {
  auto c = ParseConfig("kafka:\n  auto_offset_reset: beginning\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("kafka.auto_offset_reset"));
}

TEST(LoadConfigFileTest, NamesAMissingFile) {
  auto c = LoadConfigFile("/nonexistent/faultline.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/faultline.yaml"));
}

TEST(LoadConfigFileTest, AcceptsEveryShippedExampleConfiguration) {
  for (const char* path : {"/deploy/faultline.example.yaml", "/deploy/examples/exchange.yaml"}) {
    auto c = LoadConfigFile(std::string(FAULTLINE_SOURCE_DIR) + path);
    ASSERT_TRUE(c.ok()) << path << ": " << c.status();
    EXPECT_FALSE(c->kafka.topics.empty());
  }
}

}  // namespace
}  // namespace faultline

#include "app/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/settings_doc.h"
#include "detect/fleet/fleet_app_pool_detector.h"
#include "detect/iis/rapid_fail_detector.h"
#include "detect/service/service_crash_loop_detector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/alertmanager/alertmanager_sink.h"
#include "sinks/file/file_sink.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A detector's settings as the file gave them, or its defaults.
template <typename S>
S Section(const Config& c, const std::string& name) {
  auto it = c.detect.detectors.find(name);
  return it == c.detect.detectors.end() ? S{} : *it->second.As(S::Schema());
}
RapidFailConfig RapidFail(const Config& c) { return Section<RapidFailConfig>(c, "iis_rapid_fail"); }

TEST(ParseConfigTest, AnEmptyFileMeansAllDefaults) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(RapidFail(*c).thresholds.max_crashes, 5);
  EXPECT_EQ(RapidFail(*c).thresholds.interval, absl::Minutes(5));
  EXPECT_EQ(c->kafka.group_id, "faultline");
  ASSERT_EQ(c->sinks.size(), 1u);
  EXPECT_EQ(c->sinks[0].entry.type, "stdout");
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
  EXPECT_EQ(c->ingest.max_message_bytes, 65536u);
  EXPECT_EQ(c->detect.context.labels.at("team"), "web");
  EXPECT_EQ(RapidFail(*c).thresholds.max_crashes, 10);
  EXPECT_EQ(RapidFail(*c).thresholds.interval, absl::Minutes(10));
  EXPECT_FALSE(RapidFail(*c).rules.burst);
  EXPECT_TRUE(RapidFail(*c).rules.imminent);
  EXPECT_EQ(c->sinks[0].settings.As(FileSink::StdoutConfig::Schema())->format,
            FileSink::Format::kText);
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
  EXPECT_EQ(c->delivery.queue.capacity, 500u);
  EXPECT_TRUE(c->delivery.queue.drop_when_full);
  EXPECT_EQ(c->delivery.queue.retry_backoff, absl::Seconds(2));
  EXPECT_EQ(c->delivery.queue.retry_backoff_max, absl::Seconds(30));
  EXPECT_EQ(c->delivery.shutdown_timeout, absl::Seconds(20));
  EXPECT_EQ(c->delivery.spool_dir, "/var/lib/faultline/spool");
  EXPECT_EQ(c->metrics.listen, "0.0.0.0:9464");
  ASSERT_EQ(c->sinks.size(), 1u);
  const auto& am = *c->sinks[0].settings.As(AlertmanagerSink::Config::Schema());
  EXPECT_EQ(am.urls, (std::vector<std::string>{"http://am1:9093", "http://am2:9093"}));
  EXPECT_EQ(am.headers.at("Authorization"), "Bearer x");
  EXPECT_EQ(am.resend_interval, absl::Seconds(30));
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
  EXPECT_THAT(m, HasSubstr("3:19: delivery.queue_capacity: must be a whole number from 1"));
  EXPECT_THAT(m, HasSubstr("4:12: delivery.on_full: must be backpressure, drop; got \"block\""));
  EXPECT_THAT(m, HasSubstr("6:22: delivery.retry_backoff_max: must not be shorter than "
                           "retry_backoff"));
  EXPECT_THAT(m, HasSubstr("7:3: delivery.shutdown: unknown key"));
  EXPECT_THAT(m, HasSubstr("9:11: metrics.listen: must be host:port"));
  EXPECT_THAT(m, HasSubstr("12:25: sinks[0].headers.X-Nested: must be a string"));
  EXPECT_THAT(m, HasSubstr("11:5: sinks[0].url: required"));
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
  EXPECT_THAT(m, HasSubstr("detect.iis_rapid_fail.max_crashes: must be a whole number from 2 to "
                           "100000, got \"five\""));
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
  const DetectorContext& d = c->detect.context;
  EXPECT_EQ(d.allowed_lateness, absl::Seconds(30));
  EXPECT_EQ(d.renotify_interval, absl::Minutes(15));
  EXPECT_EQ(d.max_keys, 5000);
  const RapidFailConfig rf = RapidFail(*c);
  EXPECT_EQ(rf.disabled_resolve_after, absl::Hours(2));
  ASSERT_EQ(rf.overrides.size(), 2u);
  EXPECT_THAT(rf.overrides[0].patterns, ElementsAre("*", "MSExchange*"));
  EXPECT_EQ(rf.overrides[0].values.max_crashes, 10);
  EXPECT_THAT(rf.overrides[0].keys, ElementsAre("max_crashes"));
  EXPECT_THAT(rf.overrides[1].patterns, ElementsAre("LAB*", "*"));
  EXPECT_EQ(rf.overrides[1].values.interval, absl::Minutes(1));
  EXPECT_THAT(rf.overrides[1].keys, ElementsAre("interval", "burst_threshold"));
  EXPECT_EQ(Section<ServiceCrashLoopConfig>(*c, "service_crash_loop").thresholds.threshold, 4);
  const FleetConfig fleet = Section<FleetConfig>(*c, "fleet_app_pool_failures");
  EXPECT_FALSE(fleet.enabled);
  EXPECT_EQ(fleet.thresholds.min_hosts, 5);
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

// What a new user tried (issue 12): each is refused with its line and the key path.
TEST(ParseConfigTest, RefusesWhatANewUserGetsWrongWithTheLine) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  for (const Case& c : {
           Case{"sinks: []\n", "1:8: sinks: must not be empty"},
           Case{"detect:\n  iis_rapid_fail:\n    failure_events: []\n",
                "3:21: detect.iis_rapid_fail.failure_events: must not be empty"},
           Case{"kafka:\n  brokers: a:9092\n  brokers: b:9092\n",
                "3:3: kafka.brokers: given twice (first on line 2)"},
           Case{"detect:\n  iis_rapid_fail:\n    overrides: [{}]\n",
                "3:17: detect.iis_rapid_fail.overrides[0].host: the override sets none of "
                "max_crashes, "
                "interval, burst_threshold"},
           Case{"detect:\n  fleet_app_pool_failures:\n    overrides:\n      - {app_pool: \"[\", "
                "min_hosts: 4}\n",
                "4:20: detect.fleet_app_pool_failures.overrides[0].app_pool: must be a name or a "
                "pattern with * and ?"},
           Case{"metrics:\n  listen: \":19464\"\n", "2:11: metrics.listen: must be host:port"},
           Case{"sinks:\n  - url: http://x\n",
                "2:5: sinks[0].type: required: one of stdout, file, webhook"},
           Case{"sinks:\n  - stdout\n", "2:5: sinks[0]: must be a mapping with a type"},
           Case{"sinks:\n  - type: pager\n",
                "2:11: sinks[0].type: unknown sink type; known: stdout, file, webhook"},
       }) {
    auto config = ParseConfig(c.yaml, "f.yaml");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_THAT(std::string(config.status().message()),
                HasSubstr(std::string("f.yaml:") + c.expected))
        << c.yaml;
  }
}

TEST(ParseConfigTest, NeverEchoesAWebhookUrlOrASecret) {
  auto c = ParseConfig(R"(
sinks:
  - type: slack
    url: "hooks.slack.com/services/T0/B0/s3cr3t"
  - type: webhook
    url: "https://hooks.example.com:99999/path/s3cr3t"
)");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("sinks[0].url: must be an http:// or https:// URL"));
  EXPECT_THAT(m, HasSubstr("sinks[1].url: not a usable URL (https://hooks.example.com:99999...)"));
  EXPECT_THAT(m, Not(HasSubstr("s3cr3t")));
}

TEST(ParseConfigTest, AnEmptyUrlGivenIsRefusedInEveryHttpSink) {
  // A template that rendered an unset variable: every delivery would fail for good.
  auto c = ParseConfig(R"(
sinks:
  - {type: webhook, url: ""}
  - {type: opsgenie, api_key: k, url: ""}
  - {type: alertmanager, url: [""]}
  - {type: teams, url: ""}
)");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(m,
                HasSubstr(absl::StrCat("sinks[", i, "].url: must be an http:// or https:// URL")))
        << m;
  }
  // Teams' url is required: the reader refuses it empty, and the URL check says nothing more.
  EXPECT_THAT(m, HasSubstr("sinks[3].url: must not be empty")) << m;
  EXPECT_THAT(m, Not(HasSubstr("sinks[3].url: must be an http"))) << m;
}

TEST(ParseConfigTest, AWebhookInPagerDutyFormatNeedsNoUrlButOthersDo) {
  EXPECT_TRUE(ParseConfig("sinks:\n  - {type: webhook, format: pagerduty, routing_key: k}\n").ok());
  auto c =
      ParseConfig("sinks:\n  - {type: webhook, format: slack}\n  - {type: file, path: \"\"}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("sinks[0].url: required"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("sinks[1].path: must not be empty"));
}

TEST(ParseConfigTest, NamesTheSinkWhoseRetryBoundsCrossWithItsLine) {
  auto c = ParseConfig(
      "delivery:\n  retry_backoff_max: 5s\nsinks:\n  - type: stdout\n"
      "  - {type: stdout, name: two, retry_backoff: 10s}\n",
      "f.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("f.yaml:5: sinks[1].retry_backoff_max: must not be shorter than "
                        "retry_backoff"));
}

TEST(ParseConfigTest, DeliverysCrossedRetryBoundsAreSaidOnceNotOncePerSink) {
  auto c = ParseConfig(
      "delivery:\n  retry_backoff: 2m\nsinks:\n  - type: stdout\n  - {type: stdout, name: b}\n");
  ASSERT_FALSE(c.ok());
  const std::vector<std::string> lines =
      absl::StrSplit(c.status().message(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << c.status();
  EXPECT_THAT(lines[0], HasSubstr("delivery.retry_backoff_max: must not be shorter"));
}

TEST(ParseConfigTest, ASinksQueueSettingsReplaceDeliverysOneByOne) {
  auto c = ParseConfig(
      "delivery:\n  queue_capacity: 500\n  on_full: drop\nsinks:\n"
      "  - {type: stdout, name: one, retry_backoff: 3s, on_full: backpressure}\n"
      "  - {type: stdout, name: two}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  const QueueOptions one = c->sinks[0].entry.QueueOver(c->delivery.queue);
  EXPECT_EQ(one.name, "one");
  EXPECT_EQ(one.capacity, 500u);  // delivery's
  EXPECT_FALSE(one.drop_when_full);
  EXPECT_EQ(one.retry_backoff, absl::Seconds(3));
  EXPECT_EQ(one.retry_backoff_max, absl::Minutes(1));  // the default, through delivery
  const QueueOptions two = c->sinks[1].entry.QueueOver(c->delivery.queue);
  EXPECT_EQ(two.capacity, 500u);
  EXPECT_TRUE(two.drop_when_full);
  EXPECT_EQ(two.retry_backoff, absl::Seconds(1));
}

TEST(ParseConfigTest, AKafkaPropertyErrorNamesThePropertyNotItsValue) {
  auto c = ParseConfig("kafka:\n  properties: {security.protocol: pl41n-s3cr3t}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("kafka.properties: security.protocol: Invalid value"));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr("pl41n-s3cr3t")));
}

TEST(LoadConfigFileTest, RefusesADirectory) {
  auto c = LoadConfigFile("/tmp");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/tmp is a directory, not a file"));
}

TEST(LoadConfigFileTest, NamesAMissingFile) {
  auto c = LoadConfigFile("/nonexistent/faultline.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/faultline.yaml"));
}

TEST(LoadConfigFileTest, AcceptsEveryShippedExampleConfiguration) {
  // The Exchange example reads two secrets from the environment, as a deployment would.
  setenv("FAULTLINE_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/X", 1);
  setenv("FAULTLINE_TICKETS_SECRET", "s3cret", 1);
  for (const char* path : {"/deploy/faultline.example.yaml", "/deploy/examples/exchange.yaml"}) {
    auto c = LoadConfigFile(std::string(FAULTLINE_SOURCE_DIR) + path);
    ASSERT_TRUE(c.ok()) << path << ": " << c.status();
    EXPECT_TRUE(c->problems.empty()) << c->problems.ToStatus(path);
    EXPECT_FALSE(c->kafka.topics.empty());
  }
}

std::string ReadSourceFile(const std::string& path) {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/" + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ConfigReferenceTest, DocsConfigurationMdIsTheGeneratedReference) {
  EXPECT_EQ(ReadSourceFile("docs/CONFIGURATION.md"), ConfigReference())
      << "regenerate it: build/faultline config-reference > docs/CONFIGURATION.md";
}

TEST(ConfigReferenceTest, TheJsonSchemaFileIsTheGeneratedOne) {
  EXPECT_EQ(ReadSourceFile("docs/faultline.schema.json"),
            settings::JsonSchema(ConfigSchema(), "faultline configuration"))
      << "regenerate it: build/faultline config-reference --json-schema > "
         "docs/faultline.schema.json";
}

TEST(ConfigReferenceTest, NamesEveryDetectorAndSinkType) {
  const std::string md = ConfigReference();
  for (const char* section :
       {"## `kafka`", "### `detect.iis_rapid_fail`", "### `detect.service_crash_loop`",
        "### `detect.fleet_app_pool_failures`", "#### `detect.iis_rapid_fail.overrides[]`",
        "`sinks[]` with `type: webhook`", "`sinks[]` with `type: alertmanager`",
        "`sinks[]` with `type: kafka`", "| `url` | secret (or `url_file`, `url_env`)"}) {
    EXPECT_THAT(md, HasSubstr(section));
  }
}

}  // namespace
}  // namespace faultline

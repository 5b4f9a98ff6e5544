#include "app/service.h"

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "app/config.h"
#include "app/flags.h"
#include "app/metrics_endpoint.h"
#include "core/strings.h"
#include "core/testing/shared_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Scratch(const std::string& name) {
  const std::string path =
      ::testing::TempDir() + "/service_test_" + std::to_string(getpid()) + "_" + name;
  std::filesystem::remove_all(path);
  return path;
}

class NoMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override { return {}; }
};

// A listener on a free loopback port, as a running faultline holds it.
std::unique_ptr<MetricsEndpoint> HoldAPort() {
  auto endpoint = MetricsEndpoint::Start(
      "127.0.0.1:0", std::make_shared<NoMetrics>(), [](std::string*) { return true; },
      [](std::string*) { return true; });
  EXPECT_TRUE(endpoint.ok()) << endpoint.status();
  return endpoint.ok() ? *std::move(endpoint) : nullptr;
}

// `yaml` read as `run` reads its file: the settings' problems kept for Service::Create.
Config LoadConfigText(const std::string& yaml) {
  const std::string file = Scratch("config.yaml");
  std::ofstream(file) << yaml;
  absl::StatusOr<Config> config = LoadConfigFile(file);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *std::move(config) : Config{};
}

std::string DemoIncident() { return testing::SourcePath("app/demo/exchange_owa_incident.jsonl"); }

// A replay of the demo incident with `config`: what Run returned and what the stdout sink wrote.
struct Replayed {
  std::unique_ptr<Service> service;
  absl::Status status;
  std::string alerts;
};
Replayed ReplayDemoIncident(const Config& config) {
  Replayed r;
  std::FILE* out = std::tmpfile();
  auto service = Service::Create(
      config,
      {.input = ServiceOptions::Input::kFiles, .files = {DemoIncident()}, .stdout_stream = out});
  if (!service.ok()) {
    r.status = service.status();
  } else {
    std::atomic<bool> stop{false};
    r.service = *std::move(service);
    r.status = r.service->Run(stop);
  }
  // Run returned: the sinks were drained and stopped (the last stage to stop).
  std::rewind(out);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), out)) > 0;) r.alerts.append(buf, n);
  std::fclose(out);
  return r;
}

TEST(ServiceTest, ReportsEverySinkThatCannotBeBuiltWithItsPathAndLine) {
  // What the file reader cannot know: a path that cannot be opened, a Kafka sink without brokers.
  auto config = ParseConfig(R"(sinks:
  - type: file
    path: /nonexistent/dir/alerts.jsonl
  - type: kafka
    topic: alerts
)");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service =
      Service::Create(*config, {.input = ServiceOptions::Input::kFiles, .files = {DemoIncident()}});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2);
  const std::string m(service.status().message());
  // Each at its key when the file has it (path:), else at its entry (brokers).
  EXPECT_THAT(m, HasSubstr("3:5: sinks[0].path: cannot open /nonexistent/dir/alerts.jsonl"));
  EXPECT_THAT(m, HasSubstr("4:5: sinks[1].brokers: required when kafka.brokers is not set"));
}

TEST(ServiceTest, ReportsTheFilesProblemsAndThoseOfBuildingFromItInOneRoundInFileOrder) {
  // A wrong value the reader finds, and problems only building finds (the Sigma rules, Kafka for
  // run, the topics against each other): one report, each at its line and column.
  const std::string file = Scratch("one_round.yaml");
  std::ofstream(file) << R"(kafka:
  brokers: 127.0.0.1:1
  topics: [events, more]
  workers: 3
ingest:
  pool_topic: events
detect:
  max_clock_skew: soon
  sigma:
    rules: [/nonexistent/rules]
sinks:
  - type: file
    path: /nonexistent/dir/alerts.jsonl
)";
  absl::StatusOr<Config> config = LoadConfigFile(file);
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2);
  const std::vector<std::string> lines =
      absl::StrSplit(service.status().message(), '\n', absl::SkipEmpty());
  // The sink's path is not among them: the host may let a service write there later (it
  // retries, see FileSinkTest); check-config and replay report it (the test above).
  ASSERT_EQ(lines.size(), 4u) << service.status();
  EXPECT_THAT(lines[0],
              HasSubstr(file + ":6:3: ingest.pool_topic: must not be one of kafka.topics"));
  EXPECT_THAT(lines[1], HasSubstr(file + ":6:3: ingest.pool_topic: needs a single topic"));
  EXPECT_THAT(lines[2], HasSubstr(file + ":8:19: detect.max_clock_skew: "));
  EXPECT_THAT(lines[3], HasSubstr(file + ":10:5: detect.sigma.rules: "));
}

TEST(ServiceTest, APluginsProblemAboutAWrongValueTheReaderReportedIsNotSaidTwice) {
  // topics: {a: 1} is the reader's; "must name at least one topic" would be the same cause again.
  auto config = LoadConfigText("kafka:\n  brokers: 127.0.0.1:1\n  topics: {a: 1}\n");
  auto service = Service::Create(config, {.input = ServiceOptions::Input::kNone});
  ASSERT_FALSE(service.ok());
  EXPECT_THAT(std::string(service.status().message()), HasSubstr("3:11: kafka.topics: "));
  EXPECT_THAT(std::string(service.status().message()), Not(HasSubstr("at least one topic")));
}

TEST(ServiceTest, ARunRefusedForItsConfigurationLeavesNoFileBehindAndNamesKafkaInTheSameRound) {
  const std::string alerts = Scratch("refused.jsonl");
  Config config = LoadConfigText(
      "kafka:\n  workers: 1\ndetect:\n  max_clock_skew: soon\n"
      "sinks:\n  - type: file\n    path: " +
      alerts + "\n");
  auto service = Service::Create(config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2);
  const std::string m(service.status().message());
  EXPECT_THAT(m, HasSubstr(":4:19: detect.max_clock_skew: "));
  EXPECT_THAT(m, HasSubstr(":1:1: kafka.brokers: must not be empty"));  // at its section
  EXPECT_THAT(m, HasSubstr(":1:1: kafka.topics: must name at least one topic"));
  EXPECT_FALSE(std::filesystem::exists(alerts)) << "the file sink was opened";
}

TEST(ServiceTest, ATopicLibrdkafkaRefusesIsAConfigurationErrorNotARunTimeFault) {
  // Exit 2: systemd's RestartPreventExitStatus=2 keeps it from restarting for ever.
  Config config;
  config.kafka.brokers = "127.0.0.1:1";  // never asked: subscribing is local
  config.kafka.topics = {"^bad["};
  auto service = Service::Create(config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2) << service.status();
}

TEST(ServiceTest, AnEmptyTopicListIsRefusedByCheckConfig) {
  auto config = LoadConfigText("kafka:\n  topics: []\n");
  auto service = Service::Create(config, {.input = ServiceOptions::Input::kNone});
  ASSERT_FALSE(service.ok());
  EXPECT_THAT(std::string(service.status().message()), HasSubstr("2:11: kafka.topics: "));
}

TEST(ServiceTest, RunsFilesThroughEveryStageToTheSinks) {
  const Config config;
  Replayed r = ReplayDemoIncident(config);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.alerts, HasSubstr("\"rule\":\"iis_rapid_fail_imminent\""));
  EXPECT_THAT(r.alerts, HasSubstr("\"rule\":\"iis_app_pool_disabled\""));
  EXPECT_EQ(r.service->pipeline().stats().alerts.load(), 3u);
  EXPECT_EQ(r.service->pipeline().dispatcher().sinks()[0].stats.delivered.load(), 3u);
  std::atomic<bool> stop{false};
  EXPECT_FALSE(r.service->Run(stop).ok()) << "a service runs once";
}

TEST(ServiceTest, ARunThatEndsWithAlertsUndeliveredSaysSoAndFails) {
  // A webhook nobody answers: its alerts are retried until the shutdown deadline, then left.
  auto config = ParseConfig(
      "delivery:\n  shutdown_timeout: 1s\n"
      "sinks:\n  - type: webhook\n    url: http://127.0.0.1:1/hook\n");
  ASSERT_TRUE(config.ok()) << config.status();
  Replayed r = ReplayDemoIncident(*config);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_EQ(ExitCode(r.status), 1);
  EXPECT_THAT(std::string(r.status.message()),
              HasSubstr("3 alert(s) not delivered within 1s; their events stay uncommitted"));
  // Delivered, the same run succeeds.
  const Config defaults;
  Replayed ok = ReplayDemoIncident(defaults);
  EXPECT_TRUE(ok.status.ok()) << ok.status;
}

TEST(ServiceTest, AStageThatCannotStartStopsTheOnesBeforeItAndTheInputIsNeverRead) {
  // Hold a port, then ask the service for the same one.
  std::unique_ptr<MetricsEndpoint> taken = HoldAPort();
  ASSERT_NE(taken, nullptr);
  Config config;
  config.metrics.listen = "127.0.0.1:" + std::to_string(taken->port());
  config.kafka.brokers = "127.0.0.1:1";  // never reached: the source does not start
  config.kafka.topics = {"events"};
  auto service = Service::Create(config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_TRUE(service.ok()) << service.status();
  std::atomic<bool> stop{false};
  const absl::Status status = (*service)->Run(stop);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("metrics.listen: cannot listen on"));
  EXPECT_EQ(ExitCode(status), 1) << "a port taken is a runtime failure, not a bad file";
  EXPECT_EQ((*service)->pipeline().stats().messages.load(), 0u);
}

TEST(ServiceWorkersTest, MoreThanOneWorkerWithoutAPoolTopicWouldSplitTheFleetDetector) {
  auto config = ParseConfig("kafka:\n  brokers: 127.0.0.1:1\n  topics: [events]\n  workers: 2\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kNone});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2);
  EXPECT_THAT(std::string(service.status().message()),
              HasSubstr("kafka.workers: 2 workers each see only the hosts of their own "
                        "partitions: with fleet_app_pool_failures on, more than one needs "
                        "ingest.pool_topic"));
  // With the pool topic, or the detector off, they may.
  config = ParseConfig(
      "kafka:\n  brokers: 127.0.0.1:1\n  topics: [events]\n  workers: 2\n"
      "ingest:\n  pool_topic: pools\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(Service::Create(*config, {.input = ServiceOptions::Input::kKafka}).ok());
  config = ParseConfig(
      "kafka:\n  brokers: 127.0.0.1:1\n  topics: [events]\n  workers: 2\n"
      "detect:\n  fleet_app_pool_failures:\n    enabled: false\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto two = Service::Create(*config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ((*two)->pipelines().size(), 2u);
  // rekey merges all of its partitions in time order: one worker, whatever the cores.
  config = ParseConfig(
      "kafka:\n  brokers: 127.0.0.1:1\n  topics: [events]\n"
      "ingest:\n  rekey_topic: by-host\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto rekey = Service::Create(
      *config, {.input = ServiceOptions::Input::kKafka, .role = ServiceOptions::Role::kRekey});
  ASSERT_TRUE(rekey.ok()) << rekey.status();
  EXPECT_EQ((*rekey)->pipelines().size(), 1u);
  config->kafka.workers = 2;
  rekey = Service::Create(
      *config, {.input = ServiceOptions::Input::kKafka, .role = ServiceOptions::Role::kRekey});
  ASSERT_FALSE(rekey.ok());
  EXPECT_THAT(std::string(rekey.status().message()), HasSubstr("rekey runs one worker"));
}

TEST(ServiceWorkersTest, ByDefaultOnePerCoreWithThePoolTopicAndOneWithout) {
  cpu_set_t cpus;
  ASSERT_EQ(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
  size_t cores = std::min<size_t>(CPU_COUNT(&cpus), KafkaSourceConfig::kMaxWorkers);
  if (const int quota = CgroupCpuLimit("/sys/fs/cgroup"); quota > 0) {
    cores = std::min<size_t>(cores, quota);
  }
  auto config = ParseConfig(
      "kafka:\n  brokers: 127.0.0.1:1\n  topics: [events]\ningest:\n  pool_topic: pools\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ((*service)->pipelines().size(), cores);
  // Without it the fleet detector must see every partition's hosts: one worker.
  config = ParseConfig("kafka:\n  brokers: 127.0.0.1:1\n  topics: [events]\n");
  ASSERT_TRUE(config.ok()) << config.status();
  service = Service::Create(*config, {.input = ServiceOptions::Input::kKafka});
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ((*service)->pipelines().size(), 1u);
}

TEST(ServiceWorkersTest, OnePerCoreIsOnePerCpuOfTheCgroupsQuota) {
  const std::string root = Scratch("cgroup");
  std::filesystem::create_directories(root + "/cpu");
  EXPECT_EQ(CgroupCpuLimit(root), 0) << "nothing readable: no quota";
  std::ofstream(root + "/cpu.max") << "max 100000\n";
  EXPECT_EQ(CgroupCpuLimit(root), 0) << "v2, no quota";
  std::ofstream(root + "/cpu.max") << "200000 100000\n";
  EXPECT_EQ(CgroupCpuLimit(root), 2);
  std::ofstream(root + "/cpu.max") << "150000 100000\n";
  EXPECT_EQ(CgroupCpuLimit(root), 2) << "1.5 CPUs: 2 workers";
  std::filesystem::remove(root + "/cpu.max");
  std::ofstream(root + "/cpu/cpu.cfs_quota_us") << "-1\n";
  std::ofstream(root + "/cpu/cpu.cfs_period_us") << "100000\n";
  EXPECT_EQ(CgroupCpuLimit(root), 0) << "v1, no quota";
  std::ofstream(root + "/cpu/cpu.cfs_quota_us") << "50000\n";
  EXPECT_EQ(CgroupCpuLimit(root), 1) << "v1, half a CPU";
}

TEST(ServiceTest, APoolTopicNeedsASingleInputTopic) {
  // Its heartbeats name an input partition by its number alone.
  auto config = ParseConfig(
      "kafka:\n  brokers: 127.0.0.1:1\n  topics: [events, more]\n"
      "ingest:\n  pool_topic: pools\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kNone});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2);
  EXPECT_THAT(std::string(service.status().message()),
              HasSubstr("ingest.pool_topic: needs a single topic in kafka.topics (2 given)"));
}

TEST(ServiceTest, CheckingAConfigurationReadsTheMetricsWebConfigFile) {
  const std::string web = ::testing::TempDir() + "/faultline-service-web.yml";
  std::ofstream(web) << "tls_server_config:\n  cert_file: absent.crt\n  key_file: absent.key\n";
  auto config = ParseConfig("metrics:\n  listen: 127.0.0.1:0\n  web_config_file: " + web + "\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kNone});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(ExitCode(service.status()), 2);
  EXPECT_THAT(std::string(service.status().message()),
              HasSubstr("metrics.web_config_file: " + web +
                        ":2:14: tls_server_config.cert_file: cannot read "));
}

TEST(ServiceTest, AReplayLeavesTheServicesMetricsPortAlone) {
  // faultline run holds the port; a backtest with the same file runs beside it.
  std::unique_ptr<MetricsEndpoint> taken = HoldAPort();
  ASSERT_NE(taken, nullptr);
  Config config;
  config.metrics.listen = "127.0.0.1:" + std::to_string(taken->port());
  Replayed r = ReplayDemoIncident(config);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.alerts, HasSubstr("\"rule\":\"iis_app_pool_disabled\""));
}

TEST(ServiceTest, CheckingAConfigurationBuildsEverythingAndConnectsOrWritesNothing) {
  const std::string spool = Scratch("spool");
  const std::string alerts = Scratch("alerts.jsonl");
  auto config = ParseConfig(R"(kafka:
  brokers: 127.0.0.1:1
  topics: [events]
ingest:
  dead_letter_topic: rejects
delivery:
  spool_dir: )" + spool + R"(
sinks:
  - type: file
    path: )" + alerts + R"(
  - type: kafka
    topic: alerts
)");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kNone, .durable = true});
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ((*service)->kafka(), nullptr);
  EXPECT_EQ((*service)->pipeline().dead_letters(), nullptr);
  EXPECT_EQ((*service)->pipeline().dispatcher().spool(), nullptr);
  EXPECT_FALSE(std::filesystem::exists(spool));
  EXPECT_FALSE(std::filesystem::exists(alerts));
  EXPECT_EQ((*service)->pipeline().dispatcher().sinks().size(), 2u);
}

TEST(ServiceTest, ChecksKafkaAsRunWouldWhenTheFileNamesIt) {
  auto config = ParseConfig("kafka:\n  brokers: 127.0.0.1:1\n");
  ASSERT_TRUE(config.ok()) << config.status();
  auto service = Service::Create(*config, {.input = ServiceOptions::Input::kNone});
  ASSERT_FALSE(service.ok());
  EXPECT_THAT(std::string(service.status().message()),
              HasSubstr("kafka.topics: must name at least one topic"));
}

TEST(ServiceTest, AMissingInputFileIsNotFoundAndExitsTwo) {
  const Config config;
  auto service = Service::Create(
      config, {.input = ServiceOptions::Input::kFiles, .files = {"/nonexistent.jsonl"}});
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ExitCode(service.status()), 2);
}

TEST(ExitCodeTest, UsageAndConfigurationAreTwoAndEverythingElseAtRunTimeIsOne) {
  EXPECT_EQ(ExitCode(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCode(UsageError("--config is required")), 2);
  EXPECT_EQ(ExitCode(absl::InvalidArgumentError("detect.x: unknown key")), 2);
  EXPECT_EQ(ExitCode(absl::NotFoundError("cannot open events.jsonl")), 2);
  EXPECT_EQ(ExitCode(absl::UnavailableError("cannot listen")), 1);
  EXPECT_EQ(ExitCode(absl::InternalError("kafka fatal error")), 1);
  EXPECT_EQ(ExitCode(absl::DeadlineExceededError("demo: no end of topic")), 1);
}

}  // namespace
}  // namespace faultline

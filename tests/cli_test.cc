// The faultline binary as a user runs it: exit codes, stdout/stderr contracts, the demo and a
// replay of the real Winlogbeat corpus.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "app/builtin.h"
#include "core/testing/shared_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/parse/envelope_parser.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs build/faultline with `args` (shell words) and `env` (NAME=value words), capturing stdout
// and stderr separately.
Result RunFaultline(const std::string& args, const std::string& stdin_file = "/dev/null",
                    const std::string& env = "") {
  // CTest runs each test in its own process, in parallel: the pid keeps their files apart.
  const std::string err_path =
      ::testing::TempDir() + "/cli_test_stderr." + std::to_string(getpid()) + ".txt";
  const std::string cmd = env + " " + std::string(FAULTLINE_BINARY_DIR) + "/faultline " + args +
                          " <" + stdin_file + " 2>" + err_path;
  Result r;
  std::FILE* p = popen(cmd.c_str(), "r");
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = testing::ReadFile(err_path);
  return r;
}

std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(CliTest, DemoWarnsImminentBeforeDisabledAndExplainsTheStackOverflow) {
  Result r = RunFaultline("demo --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> alerts = Lines(r.out);
  ASSERT_EQ(alerts.size(), 3u) << r.out;
  EXPECT_THAT(alerts[0], HasSubstr("\"rule\":\"iis_worker_failure_burst\""));
  EXPECT_THAT(alerts[1], HasSubstr("\"rule\":\"iis_rapid_fail_imminent\""));
  EXPECT_THAT(alerts[1], HasSubstr("MSExchangeOWAAppPool"));
  EXPECT_THAT(alerts[2], HasSubstr("\"rule\":\"iis_app_pool_disabled\""));
  for (const char* pid : {"4312", "7120", "7344", "7560", "7788"}) {
    EXPECT_THAT(alerts[2], HasSubstr(std::string("\"pid\":") + pid));
  }
  EXPECT_THAT(alerts[2], HasSubstr("\"exit_code\":\"0x800703E9\""));
  EXPECT_THAT(alerts[2], HasSubstr("0x800703E9 stack overflow"));
}

TEST(CliTest, DemoPrintsReadableAlertsByDefault) {
  Result r = RunFaultline("demo");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t imminent = r.out.find("iis_rapid_fail_imminent firing");
  const size_t disabled = r.out.find("iis_app_pool_disabled firing");
  ASSERT_NE(imminent, std::string::npos) << r.out;
  ASSERT_NE(disabled, std::string::npos) << r.out;
  EXPECT_LT(imminent, disabled);
  EXPECT_THAT(r.out, HasSubstr("pid=4312  exit=0x800703E9"));
  EXPECT_THAT(r.err, HasSubstr("mock cluster"));
}

// A summary without its "seconds" (wall time, different each run), after checking it is there.
std::string WithoutSeconds(const std::string& summary) {
  static const std::regex kSeconds(",\"seconds\":[0-9]+\\.[0-9]{3}\\}$");
  EXPECT_TRUE(std::regex_search(summary, kSeconds)) << summary;
  return std::regex_replace(summary, kSeconds, "}");
}

TEST(CliTest, ReplaysTheRealWinlogbeatCorpusWithZeroRejects) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  Result r = RunFaultline(
      "replay " +
      testing::SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(WithoutSeconds(LastLine(r.err)),
            "{\"events\":838,\"parsed\":838,\"rejected\":0,\"rejected_by_reason\":{},"
            "\"duplicates\":0,\"too_late\":0,\"too_old\":0,\"clock_ahead\":0,\"alerts\":0,"
            "\"alerts_by_rule\":{},\"hosts\":0,\"host_evictions\":0,\"state_keys\":0,"
            "\"state_evictions\":0,\"sink_failures\":0,\"sinks\":{\"stdout\":{"
            "\"delivered\":0,\"failed\":0,\"retried\":0,\"dropped\":0,\"queued\":0}}}");
}

TEST(CliTest, ReplayReadsStdinAndSummarisesRejectsByReason) {
  const std::string path =
      ::testing::TempDir() + "/cli_test_input." + std::to_string(getpid()) + ".jsonl";
  {
    std::ofstream f(path);
    f << std::ifstream(std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl")
             .rdbuf();
    f << "not json\n{\"winlog\":{\"event_id\":1}}\n";
  }
  Result r = RunFaultline("replay - --quiet", path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 3u);
  EXPECT_EQ(WithoutSeconds(LastLine(r.err)),
            "{\"events\":9,\"parsed\":7,\"rejected\":2,\"rejected_by_reason\":{\"not_json\":1,"
            "\"no_host\":1},\"duplicates\":0,\"too_late\":0,\"too_old\":0,\"clock_ahead\":0,"
            "\"alerts\":3,\"alerts_by_rule\":{\"iis_app_pool_disabled\":1,"
            "\"iis_rapid_fail_imminent\":1,\"iis_worker_failure_burst\":1},\"hosts\":1,"
            "\"host_evictions\":0,\"state_keys\":8,\"state_evictions\":0,"
            "\"sink_failures\":0,\"sinks\":{\"stdout\":{\"delivered\":3,\"failed\":0,"
            "\"retried\":0,\"dropped\":0,\"queued\":0}}}");
}

TEST(CliTest, ExitsTwoOnBadArgumentsMissingFilesAndBadConfig) {
  EXPECT_EQ(RunFaultline("").exit_code, 2);
  EXPECT_EQ(RunFaultline("frobnicate").exit_code, 2);
  Result missing = RunFaultline("replay /nonexistent.jsonl");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("cannot open /nonexistent.jsonl"));
  const std::string bad =
      ::testing::TempDir() + "/cli_test_bad." + std::to_string(getpid()) + ".yaml";
  std::ofstream(bad) << "detect:\n  iis_rapid_fail:\n    max_crashes: 0\n    colour: red\n";
  Result config = RunFaultline("replay - --config " + bad);
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_THAT(config.err, HasSubstr("detect.iis_rapid_fail.colour: unknown key"));
  EXPECT_THAT(config.err, Not(HasSubstr("Usage:"))) << "a bad file is not a matter of flags";
  Result run = RunFaultline("run");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--config is required"));
  EXPECT_THAT(run.err, HasSubstr("Usage:"));
  Result directory = RunFaultline("replay /tmp");
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_THAT(directory.err, HasSubstr("/tmp is a directory, not a file"));
}

TEST(CliTest, RekeyNeedsTheTopicItWritesTo) {
  const std::string config =
      ::testing::TempDir() + "/cli_test_rekey." + std::to_string(getpid()) + ".yaml";
  std::ofstream(config) << "kafka:\n  brokers: 127.0.0.1:1\n  topics: [unkeyed]\n";
  Result rekey = RunFaultline("rekey --config " + config);
  EXPECT_EQ(rekey.exit_code, 2) << rekey.err;
  EXPECT_THAT(rekey.err, HasSubstr("ingest.rekey_topic: must name the topic"));
  EXPECT_THAT(rekey.err, Not(HasSubstr("Usage:")));
  Result help = RunFaultline("rekey --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("ingest.format: faultline_event"));
  EXPECT_THAT(RunFaultline("--help").out, HasSubstr("rekey"));
}

TEST(CliTest, ExitsOneOnARuntimeFailureWithoutTheUsage) {
  // 192.0.2.1 (TEST-NET-1) is no address of this machine: the metrics endpoint cannot bind.
  const std::string config =
      ::testing::TempDir() + "/cli_test_bind." + std::to_string(getpid()) + ".yaml";
  std::ofstream(config) << "kafka:\n  brokers: 127.0.0.1:1\n  topics: [t]\n"
                        << "metrics:\n  listen: 192.0.2.1:9464\n";
  Result run = RunFaultline("run --config " + config);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_THAT(run.err, Not(HasSubstr("Usage:")));
}

TEST(CliTest, CheckConfigAcceptsTheShippedExamplesAndReportsEveryErrorOfABadOne) {
  // The Exchange example reads two secrets from the environment, as a deployment would.
  const std::string secrets =
      "FAULTLINE_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/X "
      "FAULTLINE_TICKETS_SECRET=s3cret";
  for (const char* example : {"deploy/faultline.example.yaml", "deploy/examples/exchange.yaml"}) {
    Result ok = RunFaultline(std::string("check-config ") + FAULTLINE_SOURCE_DIR + "/" + example,
                             "/dev/null", secrets);
    EXPECT_EQ(ok.exit_code, 0) << example << ": " << ok.err;
    EXPECT_THAT(ok.out, HasSubstr("ok; detectors: iis_rapid_fail, service_crash_loop"));
  }
  Result exchange = RunFaultline(
      std::string("check-config ") + FAULTLINE_SOURCE_DIR + "/deploy/examples/exchange.yaml",
      "/dev/null", secrets);
  EXPECT_THAT(exchange.out, HasSubstr("sinks: alertmanager, messaging-slack (slack), tickets "
                                      "(webhook), kafka, file"));
  Result no_secrets = RunFaultline(std::string("check-config ") + FAULTLINE_SOURCE_DIR +
                                   "/deploy/examples/exchange.yaml");
  EXPECT_EQ(no_secrets.exit_code, 2);
  EXPECT_THAT(no_secrets.err, HasSubstr("exchange.yaml:51:14: sinks[1].url_env: environment "
                                        "variable FAULTLINE_SLACK_WEBHOOK_URL is not set"));
  EXPECT_THAT(no_secrets.err, HasSubstr("exchange.yaml:57:17: sinks[2].secret_env: environment "
                                        "variable FAULTLINE_TICKETS_SECRET is not set"));
  const std::string bad =
      ::testing::TempDir() + "/cli_test_check." + std::to_string(getpid()) + ".yaml";
  std::ofstream(bad) << "kafka:\n  brokers: x:1\n  topics: [t]\n  properties: {no.such: 1}\n"
                     << "detect:\n  service_crash_loop: {threshold: 0}\n"
                     << "sinks:\n  - type: pager\n";
  Result r = RunFaultline("check-config " + bad);
  EXPECT_EQ(r.exit_code, 2);
  // In one pass, each with its line.
  EXPECT_THAT(r.err, HasSubstr(":4:15: kafka.properties: no.such: No such configuration property"));
  EXPECT_THAT(r.err, HasSubstr(":6:35: detect.service_crash_loop.threshold"));
  EXPECT_THAT(r.err, HasSubstr(":8:11: sinks[0].type: unknown sink type; known: stdout"));
}

TEST(CliTest, VersionNamesTheLibrariesAsTheBuildInfoMetricDoes) {
  Result r = RunFaultline("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex("faultline [0-9.]+ \\(librdkafka [0-9.]+, simdjson [0-9.]+, "
                        "protobuf [0-9.]+\\)\n")))
      << r.out;
}

TEST(CliTest, EverySubcommandExplainsItselfWithHelp) {
  for (const char* cmd :
       {"--help", "replay --help", "run --help", "demo --help", "check-config --help"}) {
    Result r = RunFaultline(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_THAT(r.out, HasSubstr("faultline")) << cmd;
  }
  EXPECT_THAT(RunFaultline("run --help").out, StartsWith("Usage: faultline run --config FILE"));
}

TEST(CliTest, TheHelpListsEveryRegisteredDetectorSinkAndInputFormat) {
  const std::string help = RunFaultline("--help").out;
  for (const auto& entry : BuiltinDetectors().entries()) {
    EXPECT_THAT(help, HasSubstr("\n  " + entry.name + " ")) << help;
  }
  const size_t sinks = help.find("\nSinks: ");
  ASSERT_NE(sinks, std::string::npos) << help;
  const std::string line = help.substr(sinks + 1, help.find('\n', sinks + 1) - sinks - 1);
  for (const std::string& sink : BuiltinSinks().names()) EXPECT_THAT(line, HasSubstr(sink));
  for (const auto& [envelope, name] : EnvelopeNames()) {
    EXPECT_THAT(help, HasSubstr(std::string(name))) << help;
  }
}

}  // namespace
}  // namespace faultline

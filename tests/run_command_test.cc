// `faultline run` as a service, against the real broker: it consumes, alerts on stdout, and on
// SIGTERM stops fetching, flushes, commits and exits 0.

#include <fstream>

#include "absl/strings/str_split.h"
#include "app/kafka_publish.h"
#include "core/testing/child_process.h"
#include "core/testing/kafka_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

using testing::ChildProcess;

TEST(RunCommandTest, AlertsThenStopsCleanlyOnSigtermWithOffsetsCommitted) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const std::string topic = testing::UniqueName("run-command");
  const std::string group = testing::UniqueName("faultline-run");
  auto records = ReadLines(
      std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl", "EXCH01");
  ASSERT_TRUE(records.ok());
  ASSERT_TRUE(testing::Publish(brokers, topic, *records).ok());

  const std::string config = ::testing::TempDir() + "/run_command_test." + topic + ".yaml";
  std::ofstream(config)
      << "kafka:\n  brokers: " << brokers << "\n  topics: [" << topic << "]\n  group_id: " << group
      << "\n  commit_interval: 1h\nsinks:\n  - type: stdout\n    format: json\n"
      << "detect:\n  max_event_age: 0s\n";  // last March's incident, published now
  // A commit interval of an hour: the commit seen below can only be the shutdown commit.
  ChildProcess child({std::string(FAULTLINE_BINARY_DIR) + "/faultline", "run", "--config", config,
                      "--progress-every", "0", "--quiet"});
  const std::string out = child.ReadLines(3, absl::Seconds(60));
  const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_THAT(lines[1], HasSubstr("iis_rapid_fail_imminent"));
  EXPECT_THAT(lines[2], HasSubstr("iis_app_pool_disabled"));

  EXPECT_EQ(child.SignalAndWait(SIGTERM, absl::Seconds(30)), 0);
  EXPECT_EQ(testing::CommittedOffset(brokers, group, topic), 7);
}

}  // namespace
}  // namespace faultline

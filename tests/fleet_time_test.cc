// Event time across a fleet (issue 9's done-when): 200 hosts on 4 partitions, lagging,
// batching, backlogged, with wrong clocks and a slow Application channel (tests/fleet_stream.h).
// The same stream goes through `faultline replay` from a file and through `faultline run
// --exit-at-end` from the real broker; both must detect every injected incident exactly once,
// with its detection delay, unaffected by the other hosts, and count what they skipped and why.
#include <unistd.h>

#include <fstream>

#include "core/testing/child_process.h"
#include "core/testing/kafka_env.h"
#include "gtest/gtest.h"
#include "tests/fleet_check.h"
#include "tests/fleet_stream.h"

namespace faultline {
namespace {

using testing::ChildProcess;
using testing::ExpectCounted;
using testing::ExpectEveryIncidentOnce;
using testing::FleetStream;
using testing::LastLine;
using testing::ParseAlerts;
using testing::ReadAll;

const FleetStream& Fleet() {
  // The live part ends two minutes ago, so that every Kafka timestamp is in the past.
  static const FleetStream* fleet =
      new FleetStream(testing::MakeFleetStream(absl::Now() - absl::Minutes(2), /*seed=*/9));
  return *fleet;
}

TEST(FleetTimeTest, ReplayDetectsEveryIncidentOnceWhateverEachHostsClock) {
  const FleetStream& fleet = Fleet();
  ASSERT_GT(fleet.lines.size(), 10'000u);
  const std::string dir = ::testing::TempDir();
  const std::string input = dir + "/fleet_time_replay." + std::to_string(getpid()) + ".jsonl";
  {
    std::ofstream out(input);
    for (const auto& line : fleet.lines) out << line.value << '\n';
  }
  const std::string err = input + ".stderr";
  ChildProcess child({std::string(FAULTLINE_BINARY_DIR) + "/faultline", "replay", input, "--quiet"},
                     {}, err);
  const std::string alerts = child.ReadAll(absl::Seconds(300));
  ASSERT_EQ(child.Wait(absl::Seconds(60)), 0) << ReadAll(err);
  ExpectEveryIncidentOnce(fleet.incidents, ParseAlerts(alerts), {.run = false});
  ExpectCounted({&fleet}, {LastLine(ReadAll(err))}, /*run=*/false);
}

TEST(FleetTimeTest, RunFromTheRealBrokerDetectsTheSameIncidents) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const FleetStream& fleet = Fleet();
  const std::string topic = testing::UniqueName("fleet-time");
  ASSERT_TRUE(testing::CreateTopic(brokers, topic, 4).ok());
  std::vector<KafkaRecord> records;
  for (const auto& line : fleet.lines) {
    records.push_back({.key = line.key, .value = line.value, .timestamp = line.arrival});
  }
  ASSERT_TRUE(testing::Publish(brokers, topic, records).ok());

  const std::string dir = ::testing::TempDir();
  const std::string sink = dir + "/" + topic + ".alerts.jsonl";
  const std::string config = dir + "/" + topic + ".yaml";
  std::ofstream(config) << "kafka:\n  brokers: " << brokers << "\n  topics: [" << topic
                        << "]\n  group_id: " << testing::UniqueName("faultline-fleet")
                        << "\nsinks:\n  - type: file\n    path: " << sink << "\n";
  const std::string err = dir + "/" + topic + ".stderr";
  ChildProcess child({std::string(FAULTLINE_BINARY_DIR) + "/faultline", "run", "--config", config,
                      "--exit-at-end", "--quiet", "--progress-every", "0"},
                     {}, err);
  ASSERT_EQ(child.Wait(absl::Seconds(300)), 0) << ReadAll(err);
  ExpectEveryIncidentOnce(fleet.incidents, ParseAlerts(ReadAll(sink)), {.run = true});
  ExpectCounted({&fleet}, {LastLine(ReadAll(err))}, /*run=*/true);
}

}  // namespace
}  // namespace faultline

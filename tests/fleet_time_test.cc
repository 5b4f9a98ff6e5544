// Event time across a fleet (issue 9's done-when): 200 hosts on 4 partitions, lagging,
// batching, backlogged, with wrong clocks and a slow Application channel (tests/fleet_stream.h).
// The same stream goes through `faultline replay` from a file and through `faultline run
// --exit-at-end` from the real broker; both must detect every injected incident exactly once,
// with its detection delay, unaffected by the other hosts, and count what they skipped and why.
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/testing/child_process.h"
#include "core/testing/kafka_env.h"
#include "gtest/gtest.h"
#include "simdjson.h"
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

// One counter of a summary line (0 when absent).
uint64_t Counter(const std::string& summary, const std::string& name) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(summary).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not a summary: " << summary;
    return 0;
  }
  uint64_t value = 0;
  return root.at_pointer(name).get_uint64().get(value) == simdjson::SUCCESS ? value : 0;
}

// The same fleet sent without keys (a host's messages on every partition), republished by
// `faultline rekey` keyed by host, and detected by `run` from the protobuf events: every
// incident once, and every counter as from the keyed topic.
TEST(FleetTimeTest, AnUnkeyedTopicThroughTheRekeyStageDetectsTheSameIncidents) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const FleetStream& fleet = Fleet();
  const std::string unkeyed = testing::UniqueName("fleet-unkeyed");
  const std::string by_host = testing::UniqueName("fleet-by-host");
  ASSERT_TRUE(testing::CreateTopic(brokers, unkeyed, 4).ok());
  ASSERT_TRUE(testing::CreateTopic(brokers, by_host, 4).ok());
  std::vector<KafkaRecord> records;
  for (const auto& line : fleet.lines) {
    records.push_back({.value = line.value, .timestamp = line.arrival});
  }
  ASSERT_TRUE(testing::Publish(brokers, unkeyed, records).ok());

  const std::string dir = ::testing::TempDir() + "/" + unkeyed;
  auto stage = [&](const std::string& role, const std::string& yaml) {
    std::ofstream(dir + "." + role + ".yaml") << "kafka:\n  brokers: " << brokers << "\n" << yaml;
    ChildProcess child(
        {std::string(FAULTLINE_BINARY_DIR) + "/faultline", role, "--config",
         dir + "." + role + ".yaml", "--exit-at-end", "--quiet", "--progress-every", "0"},
        {}, dir + "." + role + ".stderr");
    EXPECT_EQ(child.Wait(absl::Seconds(300)), 0) << ReadAll(dir + "." + role + ".stderr");
    return LastLine(ReadAll(dir + "." + role + ".stderr"));
  };
  const std::string rekeyed = stage(
      "rekey", absl::StrCat("  topics: [", unkeyed, "]\n  group_id: ", testing::UniqueName("rekey"),
                            "\ningest:\n  rekey_topic: ", by_host, "\n"));
  EXPECT_EQ(Counter(rekeyed, "/events"), fleet.lines.size()) << rekeyed;
  EXPECT_EQ(Counter(rekeyed, "/rejected"), fleet.bad_time) << rekeyed;
  EXPECT_EQ(Counter(rekeyed, "/rekeyed"), fleet.lines.size() - fleet.bad_time) << rekeyed;
  EXPECT_EQ(Counter(rekeyed, "/alerts"), 0u) << rekeyed;

  const std::string sink = dir + ".alerts.jsonl";
  const std::string detected = stage(
      "run",
      absl::StrCat("  topics: [", by_host, "]\n  group_id: ", testing::UniqueName("detect"),
                   "\ningest:\n  format: faultline_event\nsinks:\n  - type: file\n    path: ", sink,
                   "\n"));
  ExpectEveryIncidentOnce(fleet.incidents, ParseAlerts(ReadAll(sink)), {.run = true});
  EXPECT_EQ(Counter(detected, "/events"), fleet.lines.size() - fleet.bad_time) << detected;
  EXPECT_EQ(Counter(detected, "/rejected"), 0u) << detected;
  EXPECT_EQ(Counter(detected, "/duplicates"), fleet.duplicates) << detected;
  EXPECT_EQ(Counter(detected, "/too_late"), fleet.too_late) << detected;
  EXPECT_EQ(Counter(detected, "/too_old"), fleet.too_old_run) << detected;
  EXPECT_EQ(Counter(detected, "/clock_ahead"), fleet.clock_ahead_run) << detected;
  EXPECT_EQ(Counter(detected, "/hosts"), 200u) << detected;
}

}  // namespace
}  // namespace faultline

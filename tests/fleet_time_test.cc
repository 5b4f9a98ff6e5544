// Event time across a fleet (issue 9's done-when): 200 hosts on 4 partitions, lagging,
// batching, backlogged, with wrong clocks and a slow Application channel (tests/fleet_stream.h).
// The same stream goes through `faultline replay` from a file and through `faultline run
// --exit-at-end` from the real broker; both must detect every injected incident exactly once,
// with its detection delay, unaffected by the other hosts, and count what they skipped and why.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/alert.h"
#include "core/testing/child_process.h"
#include "core/testing/kafka_env.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/fleet_stream.h"

namespace faultline {
namespace {

using testing::ChildProcess;
using testing::FleetIncident;
using testing::FleetStream;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

// What the checks read of an alert.
struct Got {
  std::string rule, status, host, app_pool, service, summary;
  uint32_t count = 0, sequence = 0;
  absl::Time first;
  double delay = 0;
};

std::vector<Got> ParseAlerts(const std::string& jsonl) {
  std::vector<Got> out;
  simdjson::dom::parser parser;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(jsonl, '\n', absl::SkipEmpty()))) {
    simdjson::dom::element a;
    EXPECT_EQ(parser.parse(line).get(a), simdjson::SUCCESS) << line;
    if (!a.is_object()) continue;
    Got g;
    auto text = [&](const char* key) {
      std::string_view v;
      return a[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
    };
    g.rule = text("rule");
    g.status = text("status");
    g.host = text("host");
    g.app_pool = text("app_pool");
    g.service = text("service");
    g.summary = text("summary");
    uint64_t n = 0;
    if (a["count"].get_uint64().get(n) == simdjson::SUCCESS) g.count = static_cast<uint32_t>(n);
    if (a["sequence"].get_uint64().get(n) == simdjson::SUCCESS) {
      g.sequence = static_cast<uint32_t>(n);
    }
    double d = 0;
    if (a["detection_delay_seconds"].get_double().get(d) == simdjson::SUCCESS) g.delay = d;
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text("first_event_time"), &g.first, &error))
        << error;
    out.push_back(std::move(g));
  }
  return out;
}

bool Matches(const Got& g, const FleetIncident& inc, const std::string& rule) {
  if (g.rule != rule || g.host != inc.host) return false;
  if (!inc.service.empty()) return g.service == inc.service;
  return absl::AsciiStrToLower(g.app_pool) == absl::AsciiStrToLower(inc.app_pool);
}

// Every injected incident fired once per rule, on its own time, with its delay; nothing else
// fired. `run`: from the broker (clocks judged against broker time, corrected exactly).
void ExpectEveryIncidentOnce(const FleetStream& fleet, const std::vector<Got>& alerts, bool run) {
  std::set<size_t> expected;  // alerts that are some incident's first notification
  for (const FleetIncident& inc : fleet.incidents) {
    for (size_t r = 0; r < inc.rules.size(); ++r) {
      const std::string& rule = inc.rules[r];
      std::vector<size_t> fired;
      uint32_t most = 0;
      for (size_t i = 0; i < alerts.size(); ++i) {
        if (!Matches(alerts[i], inc, rule)) continue;
        most = std::max(most, alerts[i].count);
        if (alerts[i].status == "firing" && alerts[i].sequence == 1) fired.push_back(i);
      }
      ASSERT_EQ(fired.size(), 1u) << inc.what << ": " << rule;
      expected.insert(fired[0]);
      const Got& g = alerts[fired[0]];
      if (rule == "fleet_app_pool_failures") {
        // Begun and raised by whichever of its hosts the consumer read first.
        // (A corrected clock is exact from the broker, an estimate from the stream clock.)
        const absl::Duration slack = inc.clock_ahead && !run ? absl::Minutes(3) : absl::Seconds(1);
        EXPECT_GE(g.first, inc.first_true - slack) << inc.what;
        EXPECT_LE(g.first, inc.first_latest + slack) << inc.what;
        // The delay runs to the window's last failure, which may be another host's than the one
        // that completed it.
        const absl::Duration span = inc.first_latest - inc.first_true;
        EXPECT_GE(g.delay, absl::ToDoubleSeconds(inc.delay_min - span) - (run ? 2 : 240))
            << inc.what;
        EXPECT_LE(g.delay, absl::ToDoubleSeconds(inc.delay_max) + (run ? 2 : 240)) << inc.what;
        EXPECT_GE(g.count, inc.min_hosts) << inc.what;
        EXPECT_EQ(most, inc.hosts) << inc.what << ": every host of the pool counted in the end";
        continue;
      }
      // On its own time: a host's clock running ahead is corrected, to within the delay of the
      // event it was first judged by (WEB199's Application channel is 3 minutes late) and, in
      // replay, the stream clock's estimate; one behind is taken as it is.
      const absl::Time first = inc.clock_ahead ? inc.first_true : inc.first_logged;
      const absl::Duration slack = inc.clock_ahead ? absl::Minutes(4) : absl::Seconds(1);
      EXPECT_LE(absl::AbsDuration(g.first - first), slack)
          << inc.what << ": " << rule << " first_event_time " << g.first << ", expected " << first;
      // How late it came: a forwarder's lag, a backlog, a batch. In replay the stream clock is an
      // estimate (the median host's latest event lags its arrival by up to a couple of minutes).
      const absl::Duration delay = inc.clock_ahead ? inc.delay_true[r] : inc.delay_logged[r];
      const double tolerance = run ? 2.0 : 240.0;
      EXPECT_NEAR(g.delay, absl::ToDoubleSeconds(delay), tolerance)
          << inc.what << ": " << rule << " detection_delay_seconds";
      if (delay > absl::Minutes(10)) {
        EXPECT_NE(g.summary.find(" after it happened."), std::string::npos) << g.summary;
      }
      if (rule == "iis_app_pool_disabled") {
        EXPECT_EQ(g.count, inc.count) << inc.what << ": each failure once (5009 + 1000 is one)";
      }
    }
  }
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Got& g = alerts[i];
    if (g.status == "firing" && g.sequence == 1 && !expected.count(i)) {
      ADD_FAILURE() << "unexpected " << g.rule << " on " << g.host << " " << g.app_pool << g.service
                    << ": " << g.summary;
    }
  }
}

// The summary's counters: what was skipped, and why.
void ExpectCounted(const FleetStream& fleet, const std::string& summary, bool run) {
  simdjson::dom::parser parser;
  simdjson::dom::element s;
  ASSERT_EQ(parser.parse(summary).get(s), simdjson::SUCCESS) << summary;
  auto n = [&](std::string_view path) {
    uint64_t v = 0;
    EXPECT_EQ(s.at_pointer(path).get_uint64().get(v), simdjson::SUCCESS) << path;
    return v;
  };
  EXPECT_EQ(n("/duplicates"), fleet.duplicates) << summary;
  EXPECT_EQ(n("/rejected_by_reason/bad_time"), fleet.bad_time) << summary;
  EXPECT_EQ(n("/rejected"), fleet.bad_time) << summary;
  EXPECT_EQ(n("/too_late"), fleet.too_late) << summary;
  EXPECT_EQ(n("/too_old"), run ? fleet.too_old_run : 0u) << summary;
  EXPECT_EQ(n("/clock_ahead"), fleet.clock_ahead_run) << summary;
  // Hosts with events a detector wants (the one re-reading an old log sends none).
  EXPECT_EQ(n("/hosts"), 200u) << summary;
  EXPECT_EQ(n("/events"), fleet.lines.size()) << summary;
}

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
  ExpectEveryIncidentOnce(fleet, ParseAlerts(alerts), /*run=*/false);
  ExpectCounted(fleet, LastLine(ReadAll(err)), /*run=*/false);
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
  ExpectEveryIncidentOnce(fleet, ParseAlerts(ReadAll(sink)), /*run=*/true);
  ExpectCounted(fleet, LastLine(ReadAll(err)), /*run=*/true);
}

}  // namespace
}  // namespace faultline

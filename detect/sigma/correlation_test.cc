#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/alert.h"
#include "detect/alert_builder.h"
#include "detect/sigma/sigma_detector.h"
#include "detect/testing/harness.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// Failed and successful logons (Security 4625, 4624), named for correlations to refer to.
constexpr char kBase[] = R"(title: Failed logon
id: 00000000-0000-0000-0000-000000004625
name: failed_logon
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4625
  condition: selection
level: low
---
title: Successful logon
id: 00000000-0000-0000-0000-000000004624
name: successful_logon
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4624
  condition: selection
level: low
)";

std::unique_ptr<Detector> Build(const std::string& yaml,
                                absl::Duration lateness = absl::Minutes(2)) {
  // Each test is a process of its own under ctest, several at once: the pid keeps them apart.
  static int n = 0;
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/sigma_correlation_", getpid(), "_", ++n);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yml") << yaml;
  SigmaConfig config;
  config.rules = {dir};
  DetectorContext context;
  context.allowed_lateness = lateness;
  context.renotify_interval = absl::Hours(1);
  auto d = SigmaDetector::Create(config, context);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *std::move(d) : nullptr;
}

Event Logon(uint32_t id, absl::Time t, const std::string& user, const std::string& host = "DC01",
            const std::string& ip = "10.0.0.9") {
  static uint64_t record = 0;
  Event e;
  e.host = host;
  e.channel = "Security";
  e.provider_name = "Microsoft-Windows-Security-Auditing";
  e.event_id = id;
  e.time = t;
  e.record_id = ++record;
  e.data.Add("TargetUserName", user);
  e.data.Add("IpAddress", ip);
  e.data.Add("LogonType", id == 4624 ? "10" : "3");
  return e;
}

std::vector<std::string> Firing(const DetectorHarness& h) {
  std::vector<std::string> out;
  for (const Alert& a : h.alerts()) {
    if (a.status() == "firing" && a.sequence() == 1) {
      out.push_back(
          absl::StrCat(a.labels().at("sigma_title"), " ", a.host(), " ",
                       a.labels().contains("sigma_group") ? a.labels().at("sigma_group") : ""));
    }
  }
  return out;
}

TEST(SigmaCorrelationTest, EventCountPerGroupAndReferencedRulesStayQuiet) {
  DetectorHarness h(Build(std::string(kBase) + R"(---
title: Brute force
id: 10000000-0000-0000-0000-000000000001
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition:
    gte: 5
level: high
)"));
  for (int i = 0; i < 4; ++i) h.Feed(Logon(4625, kT0 + absl::Seconds(30 * i), "alice"));
  for (int i = 0; i < 4; ++i) h.Feed(Logon(4625, kT0 + absl::Seconds(30 * i + 1), "bob"));
  EXPECT_TRUE(Firing(h).empty());
  h.Feed(Logon(4625, kT0 + absl::Seconds(200), "alice"));
  // A fifth for bob, but 6 minutes after his first: no 5 within 5 minutes.
  h.Feed(Logon(4625, kT0 + absl::Seconds(361), "bob"));
  EXPECT_EQ(Firing(h), std::vector<std::string>{"Brute force DC01 TargetUserName=alice"});
  EXPECT_EQ(h.alerts()[0].count(), 5u);
  EXPECT_EQ(h.alerts()[0].severity(), "critical");
  EXPECT_EQ(h.alerts()[0].labels().at("sigma_correlation"), "event_count");
  // Receivers deduplicate on the fingerprint, also across an upgrade: its input (host, then the
  // correlation's id and title, unseparated, then the group) stays these bytes.
  const std::string key =
      "DC01\x1f"
      "10000000-0000-0000-0000-000000000001Brute force\x1fTargetUserName=alice";
  const std::string start = TimeText(kT0 + absl::Seconds(200));
  EXPECT_EQ(h.alerts()[0].fingerprint(),
            StableId({"sigma/10000000-0000-0000-0000-000000000001", key, start}));
  EXPECT_EQ(h.alerts()[0].incident_id(), StableId({key, start}));
  // The failed logon rule is referenced (generate: false): it raises nothing of its own.
  for (const Alert& a : h.alerts()) EXPECT_EQ(a.labels().at("sigma_title"), "Brute force");
  // Quiet for the timespan on the host's own time: resolved.
  h.Feed(Logon(4624, kT0 + absl::Minutes(30), "carol"));
  h.Advance(kT0 + absl::Minutes(31), "DC01", "Security");
  ASSERT_FALSE(h.alerts().empty());
  EXPECT_EQ(h.alerts().back().status(), "resolved");
}

TEST(SigmaCorrelationTest, ValueCountAndGenerate) {
  DetectorHarness h(Build(std::string(kBase) + R"(---
title: Spraying
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 10m
  generate: true
  condition:
    field: TargetUserName
    gt: 2
)"));
  h.Feed(Logon(4625, kT0, "alice"));
  h.Feed(Logon(4625, kT0 + absl::Seconds(1), "alice"));
  h.Feed(Logon(4625, kT0 + absl::Seconds(2), "bob"));
  EXPECT_EQ(Firing(h), std::vector<std::string>{"Failed logon DC01 "});  // generate: true
  h.Feed(Logon(4625, kT0 + absl::Seconds(3), "carol"));
  EXPECT_EQ(Firing(h),
            (std::vector<std::string>{"Failed logon DC01 ", "Spraying DC01 IpAddress=10.0.0.9"}));
}

// The specification's example: a chained correlation, in order.
constexpr char kChain[] = R"(---
title: Multiple failed logons
name: multiple_failed_logons
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition:
    gte: 3
---
title: Failed logons then success
correlation:
  type: temporal_ordered
  rules: [multiple_failed_logons, successful_logon]
  group-by: [TargetUserName]
  timespan: 10m
level: critical
)";

TEST(SigmaCorrelationTest, ChainedTemporalOrderedNeedsTheOrder) {
  DetectorHarness h(Build(std::string(kBase) + kChain));
  for (int i = 0; i < 3; ++i) h.Feed(Logon(4625, kT0 + absl::Seconds(i), "alice"));
  h.Feed(Logon(4624, kT0 + absl::Seconds(60), "alice"));
  // bob succeeds first, then fails three times: not the order.
  h.Feed(Logon(4624, kT0 + absl::Seconds(61), "bob"));
  for (int i = 0; i < 3; ++i) h.Feed(Logon(4625, kT0 + absl::Seconds(70 + i), "bob"));
  EXPECT_EQ(Firing(h),
            std::vector<std::string>{"Failed logons then success DC01 TargetUserName=alice"});
}

TEST(SigmaCorrelationTest, TemporalAndValueAggregates) {
  DetectorHarness h(Build(std::string(kBase) + R"(---
title: Both
correlation:
  type: temporal
  rules: [successful_logon, failed_logon]
  group-by: [TargetUserName]
  timespan: 1m
---
title: Sum
correlation:
  type: value_sum
  rules: [successful_logon]
  group-by: [IpAddress]
  timespan: 1h
  condition:
    field: LogonType
    gte: 30
---
title: P90
correlation:
  type: value_percentile
  rules: [successful_logon]
  group-by: [IpAddress]
  timespan: 1h
  condition:
    field: LogonType
    percentile: 90
    gte: 10
)"));
  h.Feed(Logon(4624, kT0, "alice", "DC01", "10.0.0.1"));
  EXPECT_EQ(Firing(h), std::vector<std::string>{"P90 DC01 IpAddress=10.0.0.1"});  // 10 >= 10
  h.Feed(Logon(4625, kT0 + absl::Seconds(30), "alice", "DC01", "10.0.0.1"));      // both within 1m
  h.Feed(Logon(4624, kT0 + absl::Seconds(40), "bob", "DC01", "10.0.0.1"));
  h.Feed(Logon(4624, kT0 + absl::Seconds(50), "bob", "DC01", "10.0.0.1"));  // LogonType sum 40
  EXPECT_EQ(Firing(h), (std::vector<std::string>{"P90 DC01 IpAddress=10.0.0.1",
                                                 "Both DC01 TargetUserName=alice",
                                                 "Sum DC01 IpAddress=10.0.0.1"}));
}

TEST(SigmaCorrelationTest, AveragesDoNotDependOnArrivalOrder) {
  // value_avg is not monotone in the window: the windows measured are those an in-order
  // stream measures on each arrival, whatever order the events came in.
  const std::string rules = std::string(kBase) + R"(---
title: Average
correlation:
  type: value_avg
  rules: [successful_logon]
  group-by: [IpAddress]
  timespan: 10m
  condition:
    field: LogonType
    gt: 15
)";
  auto fired = [&](bool reversed) {
    DetectorHarness h(Build(rules));
    Event high = Logon(4624, kT0, "alice");
    high.data.Clear();
    high.data.Add("IpAddress", "10.0.0.9");
    high.data.Add("LogonType", "20");
    Event low = Logon(4624, kT0 + absl::Minutes(5), "alice");
    low.data.Clear();
    low.data.Add("IpAddress", "10.0.0.9");
    low.data.Add("LogonType", "0");
    if (reversed) std::swap(high, low);
    for (Event e : {high, low}) {
      e.origin.broker_time = kT0 + absl::Minutes(6);
      h.Feed(e);
    }
    return Firing(h).size();
  };
  // In order: the window ending at the first event averages 20 (fires); the one ending at the
  // second averages 10.
  EXPECT_EQ(fired(false), 1u);
  EXPECT_EQ(fired(true), 1u);
}

TEST(SigmaCorrelationTest, WhatCannotBeEvaluatedIsSkippedWithTheReason) {
  SigmaConfig config;
  const std::string dir = absl::StrCat(::testing::TempDir(), "/sigma_correlation_bad_", getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yml") << std::string(kBase) << R"(---
title: Unknown reference
correlation:
  type: event_count
  rules: [nothing_by_that_name]
  timespan: 5m
  condition: {gte: 2}
---
title: Absence
correlation:
  type: event_count
  rules: [failed_logon]
  timespan: 5m
  condition: {lt: 2}
---
title: Loop A
name: loop_a
correlation: {type: temporal, rules: [loop_b, failed_logon], timespan: 5m}
---
title: Loop B
name: loop_b
correlation: {type: temporal, rules: [loop_a, failed_logon], timespan: 5m}
)";
  config.rules = {dir};
  absl::StatusOr<sigma::RuleSet> set = SigmaDetector::Load(config);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->correlations.empty());
  std::set<std::string> reasons;
  for (const sigma::Skipped& s : set->skipped) reasons.insert(s.title + ": " + s.reason);
  EXPECT_EQ(reasons,
            (std::set<std::string>{
                "Absence: a count condition one event meets (lt, lte): absence is not evaluated",
                "Loop A: its references form a cycle of correlations",
                "Loop B: its references form a cycle of correlations",
                "Unknown reference: refers to 'nothing_by_that_name', which is not loaded"}));
}

// A fleet's logons, in order and shuffled within the allowed lateness, raise the same incidents:
// windows are in event time, not arrival order.
TEST(SigmaCorrelationTest, ShuffledInputRaisesWhatSortedInputRaises) {
  const std::string rules = std::string(kBase) + kChain + R"(---
title: Brute force
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition: {gte: 5}
---
title: Spraying
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 10m
  condition: {field: TargetUserName, gte: 4}
)";
  std::mt19937 rng(7);
  std::vector<Event> events;
  for (int host = 0; host < 60; ++host) {
    const std::string name = absl::StrCat("SRV", host);
    absl::Time t = kT0 + absl::Seconds(host);
    for (int burst = 0; burst < 6; ++burst) {
      const int failures = static_cast<int>(rng() % 8);
      const std::string user = absl::StrCat("user", rng() % 5);
      for (int i = 0; i < failures; ++i) {
        t += absl::Seconds(5 + rng() % 40);
        events.push_back(Logon(4625, t, rng() % 3 == 0 ? absl::StrCat("user", rng() % 5) : user,
                               name, absl::StrCat("10.0.", host, ".", rng() % 3)));
      }
      if (rng() % 2 == 0) {
        t += absl::Seconds(10 + rng() % 60);
        events.push_back(Logon(4624, t, user, name));
      }
      t += absl::Minutes(20);
    }
  }
  std::vector<Event> sorted = events;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
  // Each event moved by up to 60 s (the allowed lateness is 2 minutes).
  std::vector<std::pair<absl::Time, size_t>> keyed;
  for (size_t i = 0; i < sorted.size(); ++i) {
    keyed.push_back({sorted[i].time + absl::Seconds(static_cast<int>(rng() % 60)), i});
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<Event> shuffled;
  size_t moved = 0;
  for (size_t i = 0; i < keyed.size(); ++i) {
    shuffled.push_back(sorted[keyed[i].second]);
    moved += keyed[i].second != i ? 1 : 0;
  }
  auto run = [&](const std::vector<Event>& input) {
    DetectorHarness h(Build(rules));
    absl::Time arrival = absl::InfinitePast();
    for (const Event& e : input) {
      Event copy = e;
      arrival = std::max(arrival, e.time);  // Kafka's clock only moves on
      copy.origin.broker_time = arrival;
      h.Feed(copy);
    }
    h.Advance(input.back().time + absl::Hours(2), "SRV0", "Security");
    std::vector<std::string> fired = Firing(h);
    std::sort(fired.begin(), fired.end());
    return fired;
  };
  const std::vector<std::string> in_order = run(sorted);
  const std::vector<std::string> out_of_order = run(shuffled);
  std::printf("%zu events, %zu arrived out of order; %zu incidents in order, %zu shuffled\n",
              sorted.size(), moved, in_order.size(), out_of_order.size());
  EXPECT_GT(moved, sorted.size() / 2);
  EXPECT_GE(in_order.size(), 20u);
  EXPECT_EQ(in_order, out_of_order);
}

}  // namespace
}  // namespace faultline

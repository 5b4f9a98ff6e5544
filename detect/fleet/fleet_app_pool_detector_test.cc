#include "detect/fleet/fleet_app_pool_detector.h"

#include "absl/strings/str_format.h"
#include "detect/testing/harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'773'134'000);

Event Failure(absl::Duration at, std::string host, std::string pool = "ShopPool",
              uint32_t pid = 100) {
  Event e;
  e.time = kT0 + at;
  e.host = std::move(host);
  e.provider = Provider::kWas;
  e.event_id = kWasWorkerTerminated;
  e.app_pool = std::move(pool);
  e.pid = pid;
  return e;
}

std::unique_ptr<DetectorHarness> Make(FleetConfig config = {}) {
  auto d = FleetAppPoolDetector::Create(config, {});
  EXPECT_TRUE(d.ok()) << d.status();
  return std::make_unique<DetectorHarness>(std::move(*d));
}

TEST(FleetAppPoolTest, OneIncidentWhenThePoolFailsOnThreeHosts) {
  auto h = Make();
  h->Feed(Failure(absl::Seconds(0), "WEB1"));
  h->Feed(Failure(absl::Seconds(10), "WEB1", "ShopPool", 101));  // same host again
  h->Feed(Failure(absl::Seconds(20), "WEB2"));
  EXPECT_TRUE(h->alerts().empty());
  h->Feed(Failure(absl::Seconds(30), "web3", "shoppool"));  // IIS pool names ignore case
  ASSERT_THAT(h->Log(), ElementsAre("fleet_app_pool_failures firing"));
  const Alert& a = h->alerts()[0];
  EXPECT_EQ(a.app_pool(), "ShopPool");
  EXPECT_EQ(a.count(), 3u);
  std::vector<std::string> hosts;
  for (const Evidence& e : a.evidence()) hosts.push_back(e.detail());
  EXPECT_THAT(hosts, ElementsAre("WEB1", "WEB2", "web3")) << "one entry per host";
  EXPECT_TRUE(a.labels().empty()) << "labels stay what detect.labels says: an alert's identity";
  EXPECT_THAT(a.summary(), HasSubstr("3 hosts"));
}

TEST(FleetAppPoolTest, NamesTheFirstFiftyHostsAndCountsThemAll) {
  auto h = Make();
  for (int i = 0; i < 200; ++i) {
    h->Feed(Failure(absl::Milliseconds(100) * i, absl::StrFormat("WEB%03d", i)));
  }
  ASSERT_FALSE(h->alerts().empty());
  const Alert& a = h->alerts().back();
  EXPECT_EQ(a.count(), 3u) << "fired at the third host";
  // The engine's renotify interval keeps updates rare; force a large alert by resolving.
  h->Feed(Failure(absl::Hours(1), "LATE"));
  const Alert& resolved = h->alerts().back();
  EXPECT_EQ(resolved.status(), "resolved");
  EXPECT_EQ(resolved.count(), 200u) << "every host counted";
  EXPECT_EQ(resolved.evidence_size(), 50) << "the first fifty named";
  EXPECT_EQ(resolved.evidence(0).detail(), "WEB000");
}

TEST(FleetAppPoolTest, UpdatesAsMoreHostsJoinAtMostEveryRenotifyInterval) {
  auto h = Make();
  for (int i = 0; i < 3; ++i) h->Feed(Failure(absl::Seconds(i), "WEB" + std::to_string(i)));
  h->Feed(Failure(absl::Seconds(5), "WEB9"));  // a fourth host, too soon to re-notify
  EXPECT_EQ(h->alerts().size(), 1u);
  for (int i = 0; i < 8; ++i) {
    h->Feed(Failure(absl::Minutes(1) * (i + 1), "WEB" + std::to_string(10 + i)));
  }
  ASSERT_EQ(h->alerts().size(), 2u);
  EXPECT_EQ(h->alerts()[1].status(), "firing");
  EXPECT_GT(h->alerts()[1].count(), h->alerts()[0].count());
}

TEST(FleetAppPoolTest, NeverReportsHostsThatLeftTheWindowInAnUpdate) {
  auto h = Make();
  h->Feed(Failure(absl::Seconds(0), "A"));
  h->Feed(Failure(absl::Seconds(10), "B"));
  h->Feed(Failure(absl::Seconds(20), "C"));
  ASSERT_EQ(h->alerts().size(), 1u);
  h->Feed(Failure(absl::Seconds(330), "C", "ShopPool", 101));
  h->Feed(Failure(absl::Seconds(360), "D"));  // A and B left the window: 2 hosts, not 4
  for (const Alert& a : h->alerts()) EXPECT_GE(a.count(), 3u) << a.summary();
}

TEST(FleetAppPoolTest, NeedsTheHostsWithinTheWindow) {
  auto h = Make();
  h->Feed(Failure(absl::Minutes(0), "WEB1"));
  h->Feed(Failure(absl::Minutes(3), "WEB2"));
  h->Feed(Failure(absl::Minutes(6), "WEB3"));  // WEB1's failure left the 5-minute window
  EXPECT_TRUE(h->alerts().empty());
}

TEST(FleetAppPoolTest, AppliesThresholdsPerPoolPattern) {
  FleetConfig config;
  config.overrides = {
      {.patterns = {"Default*"}, .values = {.min_hosts = 10}, .keys = {"min_hosts"}}};
  auto h = Make(config);
  for (int i = 0; i < 5; ++i) {
    h->Feed(Failure(absl::Seconds(i), "WEB" + std::to_string(i), "DefaultAppPool"));
  }
  EXPECT_TRUE(h->alerts().empty()) << "DefaultAppPool runs everywhere: 10 hosts for it";
  for (int i = 0; i < 3; ++i) h->Feed(Failure(absl::Seconds(i), "WEB" + std::to_string(i)));
  EXPECT_THAT(h->Log(), ElementsAre("fleet_app_pool_failures firing"));
}

TEST(FleetAppPoolTest, CountsAHostWhoseClockRunsAheadAtItsCorrectedTime) {
  auto h = Make();
  h->Feed(Failure(absl::Seconds(0), "WEB1"));
  h->Feed(Failure(absl::Seconds(10), "WEB2"));
  // WEB3's clock is a day ahead of the broker's: its failure happened now, not tomorrow.
  Event ahead = Failure(absl::Hours(24) + absl::Seconds(20), "WEB3");
  ahead.origin.broker_time = kT0 + absl::Seconds(20);
  h->Feed(ahead);
  ASSERT_THAT(h->Log(), ElementsAre("fleet_app_pool_failures firing"));
  EXPECT_EQ(h->alerts()[0].count(), 3u);
}

TEST(FleetAppPoolTest, YesterdaysBacklogDoesNotJoinTodaysIncident) {
  auto h = Make();
  h->Feed(Failure(absl::Seconds(0), "WEB1"));
  h->Feed(Failure(absl::Seconds(10), "WEB2"));
  // WEB3 comes back from an outage and sends yesterday's failure of the pool now.
  Event old = Failure(absl::Seconds(20) - absl::Hours(24), "WEB3");
  old.origin.broker_time = kT0 + absl::Seconds(20);
  h->Feed(old);
  EXPECT_TRUE(h->alerts().empty()) << "two hosts today, one yesterday";
}

TEST(FleetAppPoolTest, HostsLaggingAlikeStillMakeAnIncident) {
  auto h = Make();
  // Three hosts behind the same collector, an hour late, with a live host's traffic between.
  for (int i = 0; i < 3; ++i) {
    Event e = Failure(absl::Seconds(10 * i), "WEB" + std::to_string(i));
    e.origin.broker_time = kT0 + absl::Hours(1) + absl::Seconds(10 * i);
    h->Feed(e);
    h->Advance(kT0 + absl::Hours(1) + absl::Seconds(10 * i + 5), "LIVE01");
  }
  ASSERT_THAT(h->Log(), ElementsAre("fleet_app_pool_failures firing"));
  EXPECT_NEAR(h->alerts()[0].detection_delay_seconds(), 3600, 1);
}

TEST(FleetAppPoolTest, ResolvesWhenNoHostFailsForAWindow) {
  auto h = Make();
  for (int i = 0; i < 3; ++i) h->Feed(Failure(absl::Seconds(i), "WEB" + std::to_string(i)));
  h->Advance(kT0 + absl::Minutes(10), "WEB0");
  EXPECT_THAT(h->Log(),
              ElementsAre("fleet_app_pool_failures firing", "fleet_app_pool_failures resolved"));
}

}  // namespace
}  // namespace faultline

#include "detect/service/service_crash_loop_detector.h"

#include "core/testing/read_settings.h"
#include "detect/testing/harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'773'134'000);

Event Terminated(absl::Duration at, std::string service = "W3SVC", uint32_t occurrences = 0,
                 std::string host = "WEB1", uint32_t id = kScmServiceTerminatedUnexpectedly) {
  Event e;
  e.time = kT0 + at;
  e.host = std::move(host);
  e.provider = Provider::kServiceControlManager;
  e.event_id = id;
  e.service = std::move(service);
  e.occurrences = occurrences;
  return e;
}

std::unique_ptr<DetectorHarness> Make(ServiceCrashLoopConfig config = {}) {
  auto d = ServiceCrashLoopDetector::Create(config, {});
  EXPECT_TRUE(d.ok()) << d.status();
  return std::make_unique<DetectorHarness>(std::move(*d));
}

TEST(ServiceCrashLoopTest, FiresAtTheThirdTerminationWithinTenMinutes) {
  auto h = Make();
  h->Feed(Terminated(absl::Minutes(0)));
  h->Feed(Terminated(absl::Minutes(4), "W3SVC", 0, "WEB1", kScmServiceTerminatedNoRecovery));
  EXPECT_TRUE(h->alerts().empty());
  h->Feed(Terminated(absl::Minutes(9)));
  ASSERT_THAT(h->Log(), ElementsAre("service_crash_loop firing"));
  const Alert& a = h->alerts()[0];
  EXPECT_EQ(a.host(), "WEB1");
  EXPECT_EQ(a.service(), "W3SVC");
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.evidence_size(), 3);
  EXPECT_EQ(a.evidence(1).event_id(), kScmServiceTerminatedNoRecovery);
}

TEST(ServiceCrashLoopTest, IgnoresTerminationsSpreadWiderThanTheWindow) {
  auto h = Make();
  for (int i = 0; i < 5; ++i) h->Feed(Terminated(absl::Minutes(6 * i)));
  EXPECT_TRUE(h->alerts().empty());
}

TEST(ServiceCrashLoopTest, FiresOnOneEventWhoseOwnCountReachesTheThreshold) {
  auto h = Make();
  h->Feed(Terminated(absl::Minutes(0), "WAS", 3));
  ASSERT_THAT(h->Log(), ElementsAre("service_crash_loop firing"));
  EXPECT_THAT(h->alerts()[0].summary(), HasSubstr("Windows counts 3"));
  EXPECT_EQ(h->alerts()[0].evidence(0).detail(), "done this 3 time(s)");
}

TEST(ServiceCrashLoopTest, KeepsServicesAndHostsApart) {
  auto h = Make();
  h->Feed(Terminated(absl::Minutes(0), "W3SVC", 0, "WEB1"));
  h->Feed(Terminated(absl::Minutes(1), "WAS", 0, "WEB1"));
  h->Feed(Terminated(absl::Minutes(2), "W3SVC", 0, "WEB2"));
  EXPECT_TRUE(h->alerts().empty());
}

TEST(ServiceCrashLoopTest, ResolvesWhenTheWindowDrains) {
  auto h = Make();
  for (int i = 0; i < 3; ++i) h->Feed(Terminated(absl::Minutes(i)));
  h->Advance(kT0 + absl::Minutes(20), "WEB1");
  ASSERT_THAT(h->Log(), ElementsAre("service_crash_loop firing", "service_crash_loop resolved"));
  EXPECT_EQ(h->alerts()[1].fingerprint(), h->alerts()[0].fingerprint());
  EXPECT_EQ(h->detector().stats().keys, 0u);
}

TEST(ServiceCrashLoopTest, ADecisiveTerminationBeyondTheLatenessStillAlerts) {
  auto h = Make();
  h->Feed(Terminated(absl::Minutes(30), "Spooler"));  // the host's System channel is far on
  // An old 7031 that says "done this 4 time(s)": the loop is in the event itself.
  h->Feed(Terminated(absl::Minutes(5), "W3SVC", 4));
  EXPECT_THAT(h->Log(), ElementsAre("service_crash_loop firing"));
  EXPECT_EQ(h->engine().stats().too_late.load(), 0u);
  // An old one that proves nothing on its own is counted as too late.
  h->Feed(Terminated(absl::Minutes(6), "WAS", 1));
  EXPECT_EQ(h->alerts().size(), 1u);
  EXPECT_EQ(h->engine().stats().too_late.load(), 1u);
}

TEST(ServiceCrashLoopTest, ResolvesOnItsOwnHostsTimeNotAnothers) {
  auto h = Make();
  for (int i = 0; i < 3; ++i) h->Feed(Terminated(absl::Minutes(i)));
  // WEB2 comes back from an outage and sends yesterday in seconds: a crash loop, then silence.
  const absl::Time yesterday = kT0 - absl::Hours(24);
  for (int i = 0; i < 3; ++i) {
    Event e = Terminated(absl::Minutes(i) - absl::Hours(24), "WAS", 0, "WEB2");
    e.origin.broker_time = kT0 + absl::Minutes(2) + absl::Seconds(i);
    h->Feed(e);
  }
  // WEB1's service keeps crashing for twenty minutes: its incident stays open, while WEB2's,
  // silent since, resolves on its own time moved on by the arrival clock.
  for (int i = 3; i <= 20; ++i) h->Feed(Terminated(absl::Minutes(i)));
  std::vector<const Alert*> resolved;
  for (const Alert& a : h->alerts()) {
    if (a.status() == "resolved") resolved.push_back(&a);
  }
  ASSERT_EQ(resolved.size(), 1u) << "WEB1's is still open";
  EXPECT_EQ(resolved[0]->host(), "WEB2");
  EXPECT_EQ(FromProtoTime(resolved[0]->last_event_time()), yesterday + absl::Minutes(2))
      << "yesterday's incident, on its own clock";
}

TEST(ServiceCrashLoopTest, AHostEvictedMidIncidentKeepsItsIncidentWhenItComesBack) {
  // Room for four hosts' clocks: a lagging WEF host is pushed out between its batches.
  auto d = ServiceCrashLoopDetector::Create({}, {});
  ASSERT_TRUE(d.ok());
  DetectorHarness h(std::move(*d), EngineOptions{.max_hosts = 4});
  auto from = [](Event e, absl::Duration broker) {
    e.origin.broker_time = kT0 + broker;
    return e;
  };
  h.Feed(from(Terminated(absl::Minutes(0)), absl::Minutes(20)));  // 20 minutes behind
  h.Feed(from(Terminated(absl::Minutes(4)), absl::Minutes(21)));
  for (int i = 1; i <= 4; ++i) {
    const absl::Duration at = absl::Minutes(21) + absl::Seconds(i);
    h.Feed(from(Terminated(at, "Spooler", 0, "H" + std::to_string(i)), at));
  }
  EXPECT_GE(h.engine().clocks().evictions(), 1u);
  EXPECT_EQ(h.engine().clocks().Host("WEB1"), h.engine().clocks().Arrival()) << "evicted";
  // WEB1 is back with another service's event; the punctual hosts move the arrival clock on
  // (ticks), while WEB1's W3SVC state still holds the reference from before the eviction.
  h.Feed(from(Terminated(absl::Minutes(5), "WAS", 0, "WEB1"), absl::Minutes(22)));
  for (int s = 0; s < 180; s += 10) {
    const absl::Duration at = absl::Minutes(22) + absl::Seconds(s);
    h.Feed(from(Terminated(at, "Spooler", 0, "H1"), at));
  }
  h.Feed(from(Terminated(absl::Minutes(9)), absl::Minutes(25)));
  std::vector<const Alert*> web1;  // (H1's Spooler, terminated every 10 s, is a loop of its own)
  for (const Alert& a : h.alerts()) {
    if (a.host() == "WEB1") web1.push_back(&a);
  }
  ASSERT_EQ(web1.size(), 1u) << "the third termination of WEB1's W3SVC within 10 minutes";
  EXPECT_EQ(web1[0]->service(), "W3SVC");
  EXPECT_EQ(web1[0]->count(), 3u);
}

TEST(ServiceCrashLoopTest, CountsOnlyTheConfiguredEvents) {
  ServiceCrashLoopConfig config;
  config.events = {kScmServiceTerminatedNoRecovery};
  auto h = Make(config);
  for (int i = 0; i < 3; ++i) h->Feed(Terminated(absl::Minutes(i)));  // 7031: not counted
  EXPECT_TRUE(h->alerts().empty());
  for (int i = 0; i < 3; ++i) {
    h->Feed(Terminated(absl::Minutes(3 + i), "W3SVC", 0, "WEB1", kScmServiceTerminatedNoRecovery));
  }
  EXPECT_THAT(h->Log(), ElementsAre("service_crash_loop firing"));
}

TEST(ServiceCrashLoopTest, AppliesThresholdsPerHostAndServicePattern) {
  ServiceCrashLoopConfig config;
  config.overrides = {
      {.patterns = {"WEB*", "MSExchange*"}, .values = {.threshold = 5}, .keys = {"threshold"}}};
  auto h = Make(config);
  for (int i = 0; i < 4; ++i) h->Feed(Terminated(absl::Minutes(i), "MSExchangeIMAP4"));
  EXPECT_TRUE(h->alerts().empty()) << "5 for Exchange services on WEB hosts";
  for (int i = 0; i < 3; ++i) h->Feed(Terminated(absl::Minutes(4 + i), "W3SVC"));
  EXPECT_THAT(h->Log(), ElementsAre("service_crash_loop firing"));
}

TEST(ServiceCrashLoopTest, ALateTerminationWithinTheAllowanceStaysInItsIncident) {
  auto h = Make();
  for (int i = 0; i < 3; ++i) h->Feed(Terminated(absl::Minutes(i)));
  h->Feed(Terminated(absl::Minutes(12) + absl::Seconds(30)));
  h->Feed(Terminated(absl::Minutes(11)));  // 90 s late: allowed
  EXPECT_THAT(h->Log(), ElementsAre("service_crash_loop firing"))
      << "no resolve and re-fire of one crash loop";
}

TEST(ServiceCrashLoopTest, RejectsBadSettingsWithTheirPath) {
  auto c = testing::ReadSettings(ServiceCrashLoopConfig::Schema(),
                                 "threshold: 0\nwindow: 0s\nevents: [7036]\noverrides: [{}]\n",
                                 "detect.service_crash_loop");
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_THAT(m, HasSubstr("1:12: detect.service_crash_loop.threshold"));
  EXPECT_THAT(m, HasSubstr("2:9: detect.service_crash_loop.window"));
  EXPECT_THAT(m,
              HasSubstr("detect.service_crash_loop.events: 7036 is not an unexpected termination"));
  EXPECT_THAT(m, HasSubstr("detect.service_crash_loop.overrides[0].host: the override sets none of "
                           "threshold, window"));
}

}  // namespace
}  // namespace faultline

#include "detect/iis/rapid_fail_detector.h"

#include "core/testing/read_settings.h"
#include "detect/testing/harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'773'134'000);

Event WasFailure(absl::Duration at, uint32_t pid, std::string pool = "OwaPool",
                 std::string host = "EXCH01", uint32_t id = kWasWorkerCommunicationError) {
  Event e;
  e.time = kT0 + at;
  e.host = std::move(host);
  e.provider = Provider::kWas;
  e.event_id = id;
  e.app_pool = std::move(pool);
  e.pid = pid;
  return e;
}

Event Disabled(absl::Duration at, std::string pool = "OwaPool", std::string host = "EXCH01",
               uint32_t id = kWasAppPoolDisabled) {
  return WasFailure(at, 0, std::move(pool), std::move(host), id);
}

Event Recycled(absl::Duration at, uint32_t pid) {
  return WasFailure(at, pid, "OwaPool", "EXCH01", kWasWorkerRecycledFirst);
}

Event AppCrash(absl::Duration at, uint32_t pid, uint32_t exception, std::string app = "w3wp.exe") {
  Event e;
  e.time = kT0 + at;
  e.host = "EXCH01";
  e.provider = Provider::kApplicationError;
  e.event_id = kApplicationErrorFaultingApp;
  e.pid = pid;
  e.exception_code = exception;
  e.faulting_app = std::move(app);
  e.faulting_module = "clr.dll";
  return e;
}

class RapidFailDetectorTest : public ::testing::Test {
 protected:
  void Make(RapidFailConfig config = {}, DetectorContext context = {}) {
    auto d = RapidFailDetector::Create(config, context);
    ASSERT_TRUE(d.ok()) << d.status();
    h_ = std::make_unique<DetectorHarness>(std::move(*d));
  }
  void SetUp() override { Make(); }
  void Feed(const Event& e) { h_->Feed(e); }
  std::vector<std::string> Log() const { return h_->Log(); }
  const std::vector<Alert>& alerts() const { return h_->alerts(); }

  std::unique_ptr<DetectorHarness> h_;
};

TEST_F(RapidFailDetectorTest, BurstFiresAtTheThirdFailureNotTheSecond) {
  Feed(WasFailure(absl::Seconds(0), 101));
  Feed(WasFailure(absl::Seconds(30), 102));
  EXPECT_TRUE(alerts().empty());
  Feed(WasFailure(absl::Seconds(60), 103));
  ASSERT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing"));
  const Alert& a = alerts()[0];
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.severity(), "warning");
  EXPECT_EQ(a.host(), "EXCH01");
  EXPECT_EQ(a.app_pool(), "OwaPool");
  EXPECT_EQ(a.window_seconds(), 300u);
  EXPECT_EQ(FromProtoTime(a.first_event_time()), kT0);
  EXPECT_EQ(FromProtoTime(a.last_event_time()), kT0 + absl::Seconds(60));
}

TEST_F(RapidFailDetectorTest, IgnoresFailuresSpreadWiderThanTheInterval) {
  for (int i = 0; i < 4; ++i) Feed(WasFailure(absl::Minutes(3 * i), 101 + i));
  EXPECT_TRUE(alerts().empty()) << "never more than 2 within 5 minutes";
}

TEST_F(RapidFailDetectorTest, CountsAFailureExactlyOneIntervalOldAsExpired) {
  Feed(WasFailure(absl::Minutes(0), 101));
  Feed(WasFailure(absl::Minutes(1), 102));
  Feed(WasFailure(absl::Minutes(5), 103));
  EXPECT_TRUE(alerts().empty());
  Feed(WasFailure(absl::Minutes(5) + absl::Seconds(1), 104));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing"));
}

TEST_F(RapidFailDetectorTest, WarnsImminentAtTheFourthFailureBeforeThePoolIsDisabled) {
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(20 * i), 100 + i));
  Feed(Disabled(absl::Seconds(81)));
  ASSERT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing",
                                 "iis_rapid_fail_imminent firing", "iis_app_pool_disabled firing"));
  EXPECT_EQ(alerts()[1].count(), 4u);
  EXPECT_EQ(alerts()[1].severity(), "critical");
  EXPECT_THAT(alerts()[1].summary(), HasSubstr("one more before"));
  // One incident: every alert carries its id; each rule its own fingerprint.
  EXPECT_FALSE(alerts()[0].incident_id().empty());
  EXPECT_EQ(alerts()[1].incident_id(), alerts()[0].incident_id());
  EXPECT_EQ(alerts()[2].incident_id(), alerts()[0].incident_id());
  EXPECT_NE(alerts()[1].fingerprint(), alerts()[0].fingerprint());
}

TEST_F(RapidFailDetectorTest, DisabledAlertCarriesTheFailuresWithDecodedCodes) {
  Event first = WasFailure(absl::Seconds(0), 4312, "OwaPool", "EXCH01", kWasWorkerTerminated);
  first.exit_code = 0x800703E9;
  Feed(first);
  for (int i = 1; i < 5; ++i) Feed(WasFailure(absl::Seconds(20 * i), 7000 + i));
  Feed(Disabled(absl::Seconds(100)));
  ASSERT_EQ(alerts().size(), 3u);
  const Alert& a = alerts()[2];
  EXPECT_EQ(a.count(), 5u);
  std::vector<uint32_t> pids;
  std::vector<std::string> kinds;
  for (const Evidence& e : a.evidence()) {
    pids.push_back(e.pid());
    kinds.push_back(e.kind());
  }
  EXPECT_THAT(pids, ElementsAre(4312, 7001, 7002, 7003, 7004, 0));
  EXPECT_THAT(kinds, ElementsAre("failure", "failure", "failure", "failure", "failure", "disable"));
  EXPECT_EQ(a.evidence(0).exit_code(), "0x800703E9");
  EXPECT_EQ(a.evidence(0).meaning(), "stack overflow");
  EXPECT_THAT(a.summary(), HasSubstr("0x800703E9 stack overflow"));
}

TEST_F(RapidFailDetectorTest, TreatsWas5057And5059AsDisabledToo) {
  Feed(Disabled(absl::Seconds(0), "IdentityPool", "WEB1", kWasAppPoolDisabledIdentity));
  Feed(Disabled(absl::Seconds(0), "StartPool", "WEB1", kWasAppPoolDisabledStartFailure));
  EXPECT_THAT(Log(), ElementsAre("iis_app_pool_disabled firing", "iis_app_pool_disabled firing"));
}

TEST_F(RapidFailDetectorTest, CountsACrashSeenByApplicationErrorThenWasOnce) {
  Feed(AppCrash(absl::Seconds(0), 4312, 0xC00000FD));
  Feed(WasFailure(absl::Seconds(13), 4312));
  Feed(WasFailure(absl::Seconds(40), 4313));
  EXPECT_TRUE(alerts().empty()) << "two failures, not three";
  Feed(WasFailure(absl::Seconds(50), 4314));
  ASSERT_EQ(alerts().size(), 1u);
  EXPECT_EQ(alerts()[0].count(), 3u);
  EXPECT_EQ(alerts()[0].evidence(0).exception_code(), "0xC00000FD");
  EXPECT_EQ(alerts()[0].evidence(0).faulting_module(), "clr.dll");
}

TEST_F(RapidFailDetectorTest, CountsACrashSeenByWasThenApplicationErrorOnce) {
  Feed(WasFailure(absl::Seconds(0), 4312));
  Feed(AppCrash(absl::Seconds(2), 4312, 0xC0000005));
  Feed(WasFailure(absl::Seconds(30), 4313));
  EXPECT_TRUE(alerts().empty());
  Feed(WasFailure(absl::Seconds(40), 4314));
  ASSERT_EQ(alerts().size(), 1u);
  EXPECT_EQ(alerts()[0].evidence(0).exception_code(), "0xC0000005");
  EXPECT_EQ(alerts()[0].evidence(0).meaning(), "access violation in native code");
}

TEST_F(RapidFailDetectorTest, DoesNotCorrelateCrashesOutsideTheCorrelationWindow) {
  Feed(AppCrash(absl::Seconds(0), 4312, 0xC00000FD));
  Feed(WasFailure(absl::Minutes(3), 4312));  // default correlation window: 2 minutes
  Feed(WasFailure(absl::Minutes(3) + absl::Seconds(1), 4313));
  Feed(WasFailure(absl::Minutes(3) + absl::Seconds(2), 4314));
  ASSERT_EQ(alerts().size(), 1u);
  EXPECT_EQ(alerts()[0].evidence(0).exception_code(), "");
}

TEST_F(RapidFailDetectorTest, NeverCountsApplicationErrorsAlone) {
  Feed(AppCrash(absl::Seconds(0), 1, 0xC0000005, "notepad.exe"));
  for (int i = 0; i < 5; ++i) Feed(AppCrash(absl::Seconds(i), 200 + i, 0xC0000005));
  EXPECT_TRUE(alerts().empty()) << "an Application Error names no pool";
}

TEST_F(RapidFailDetectorTest, CountsTheSameWorkerPidOnlyOnce) {
  Feed(WasFailure(absl::Seconds(0), 4312, "OwaPool", "EXCH01", kWasWorkerTerminated));
  Feed(WasFailure(absl::Seconds(1), 4312));  // a 5011 for the worker that already died
  Feed(WasFailure(absl::Seconds(3), 4313));
  EXPECT_TRUE(alerts().empty());
}

TEST_F(RapidFailDetectorTest, KeepsPoolsAndHostsApart) {
  Feed(WasFailure(absl::Seconds(0), 1, "A", "H1"));
  Feed(WasFailure(absl::Seconds(1), 2, "B", "H1"));
  Feed(WasFailure(absl::Seconds(2), 3, "A", "H2"));
  Feed(WasFailure(absl::Seconds(3), 4, "A", "H1"));
  EXPECT_TRUE(alerts().empty());
  Feed(WasFailure(absl::Seconds(4), 5, "A", "H1"));
  ASSERT_EQ(alerts().size(), 1u);
  EXPECT_EQ(alerts()[0].host(), "H1");
  EXPECT_EQ(alerts()[0].app_pool(), "A");
}

TEST_F(RapidFailDetectorTest, ResolvesWhenTheWindowDrainsWithTheSameFingerprint) {
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(10 * i), 100 + i));
  h_->Advance(kT0 + absl::Minutes(4));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing")) << "not drained yet";
  h_->Advance(kT0 + absl::Minutes(8));  // last failure at 20 s, + 5 min interval, + 2 min lateness
  ASSERT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_worker_failure_burst resolved"));
  EXPECT_EQ(alerts()[1].fingerprint(), alerts()[0].fingerprint());
  EXPECT_EQ(alerts()[1].incident_id(), alerts()[0].incident_id());
  EXPECT_EQ(FromProtoTime(alerts()[1].last_event_time()),
            kT0 + absl::Seconds(20) + absl::Minutes(5));
}

TEST_F(RapidFailDetectorTest, StartsANewIncidentWithANewFingerprintAfterAQuietInterval) {
  for (int i = 0; i < 10; ++i) Feed(WasFailure(absl::Seconds(10 * i), 100 + i));
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Minutes(30) + absl::Seconds(i), 200 + i));
  ASSERT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_rapid_fail_imminent firing",
                          "iis_worker_failure_burst resolved", "iis_rapid_fail_imminent resolved",
                          "iis_worker_failure_burst firing"));
  EXPECT_NE(alerts()[4].fingerprint(), alerts()[0].fingerprint());
  EXPECT_NE(alerts()[4].incident_id(), alerts()[0].incident_id());
}

TEST_F(RapidFailDetectorTest, RenotifiesAGrowingIncidentAtMostEveryRenotifyInterval) {
  RapidFailConfig config;
  config.thresholds.max_crashes = 1000;         // keep it a burst
  config.thresholds.interval = absl::Hours(1);  // and let the count keep growing
  Make(config);
  for (int i = 0; i < 60; ++i) Feed(WasFailure(absl::Seconds(20 * i), 100 + i));  // 20 minutes
  std::vector<uint32_t> counts;
  for (const Alert& a : alerts()) counts.push_back(a.count());
  // Fired at 3, then updates 5 minutes apart as the count grows.
  ASSERT_EQ(alerts().size(), 4u);
  EXPECT_EQ(counts.front(), 3u);
  for (size_t i = 1; i < alerts().size(); ++i) {
    EXPECT_EQ(alerts()[i].status(), "firing");
    EXPECT_EQ(alerts()[i].fingerprint(), alerts()[0].fingerprint());
    EXPECT_GE(FromProtoTime(alerts()[i].last_event_time()) -
                  FromProtoTime(alerts()[i - 1].last_event_time()),
              absl::Minutes(5));
  }
}

TEST_F(RapidFailDetectorTest, AThousandFailuresInAnHourGiveAHandfulOfAlerts) {
  for (int i = 0; i < 1000; ++i) Feed(WasFailure(absl::Milliseconds(3600 * i), 10'000 + i));
  h_->Advance(kT0 + absl::Hours(2));
  EXPECT_LE(alerts().size(), 16u);
  // burst fired, then imminent spoke for the incident; both resolved at the end.
  EXPECT_EQ(Log().front(), "iis_worker_failure_burst firing");
  EXPECT_EQ(Log().back(), "iis_rapid_fail_imminent resolved");
  int burst_updates = 0;
  for (const std::string& line : Log()) burst_updates += line == "iis_worker_failure_burst firing";
  EXPECT_EQ(burst_updates, 1) << "no burst updates once imminent fired";
}

TEST_F(RapidFailDetectorTest, ResolvesDisabledWhenAWorkerOfThePoolIsSeenAgain) {
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(i), 100 + i));
  Feed(Disabled(absl::Seconds(5)));
  Feed(Recycled(absl::Minutes(20), 9000));
  ASSERT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_rapid_fail_imminent firing",
                          "iis_app_pool_disabled firing", "iis_worker_failure_burst resolved",
                          "iis_rapid_fail_imminent resolved", "iis_app_pool_disabled resolved"));
  const Alert& resolved = alerts().back();
  EXPECT_THAT(resolved.summary(), HasSubstr("serves again"));
  EXPECT_EQ(resolved.evidence(resolved.evidence_size() - 1).kind(), "recovery");
  EXPECT_EQ(resolved.evidence(resolved.evidence_size() - 1).pid(), 9000u);
  const Alert& fired = alerts()[2];
  EXPECT_EQ(fired.rule(), "iis_app_pool_disabled");
  EXPECT_EQ(resolved.fingerprint(), fired.fingerprint());
}

TEST_F(RapidFailDetectorTest, ARecoveryEndsTheIncidentSoTheNextOutageIsANewOne) {
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(i), 101 + i));
  Feed(Disabled(absl::Seconds(5)));
  const std::string first_disabled = alerts().back().fingerprint();
  Feed(WasFailure(absl::Seconds(60), 106));  // someone started the pool; a new worker failed
  for (int i = 0; i < 4; ++i) Feed(WasFailure(absl::Seconds(61 + i), 107 + i));
  Feed(Disabled(absl::Seconds(90)));
  ASSERT_EQ(Log().back(), "iis_app_pool_disabled firing");
  EXPECT_NE(alerts().back().fingerprint(), first_disabled)
      << "the same fingerprint must not go firing, resolved, firing";
  int resolved = 0;
  for (const std::string& line : Log()) resolved += line == "iis_app_pool_disabled resolved";
  EXPECT_EQ(resolved, 1);
}

TEST_F(RapidFailDetectorTest, ASecondEventOfAWorkerAlreadyCountedIsNoRecovery) {
  for (int i = 0; i < 5; ++i) {
    Feed(WasFailure(absl::Seconds(i), 101 + i, "OwaPool", "EXCH01", kWasWorkerPingFailed));
  }
  Feed(Disabled(absl::Seconds(5)));
  Feed(WasFailure(absl::Seconds(95), 105, "OwaPool", "EXCH01", kWasWorkerShutdownTimeLimit));
  for (const std::string& line : Log()) EXPECT_NE(line, "iis_app_pool_disabled resolved");
}

TEST_F(RapidFailDetectorTest, EvictionSparesPoolsWithAnOpenIncident) {
  Make({}, {.max_keys = 20});
  Feed(Disabled(absl::Seconds(0), "DownPool"));  // open, then silent: the least recently seen
  for (int i = 0; i < 200; ++i) {
    Feed(WasFailure(absl::Seconds(1) + absl::Milliseconds(i), i + 1, "p" + std::to_string(i)));
  }
  EXPECT_GT(h_->detector().stats().evictions, 0u);
  Feed(WasFailure(absl::Seconds(2), 9999, "DownPool", "EXCH01", kWasWorkerRecycledFirst));
  EXPECT_EQ(Log().back(), "iis_app_pool_disabled resolved") << "DownPool was not evicted";
}

TEST_F(RapidFailDetectorTest, ResolvesDisabledAfterTheConfiguredTime) {
  RapidFailConfig config;
  config.disabled_resolve_after = absl::Minutes(30);
  Make(config);
  Feed(Disabled(absl::Seconds(0)));
  h_->Advance(kT0 + absl::Minutes(20));
  EXPECT_THAT(Log(), ElementsAre("iis_app_pool_disabled firing"));
  h_->Advance(kT0 + absl::Minutes(33));
  EXPECT_THAT(Log(), ElementsAre("iis_app_pool_disabled firing", "iis_app_pool_disabled resolved"));
}

TEST_F(RapidFailDetectorTest, AttachesCompanionEventsOfTheSameHostAsContext) {
  Event dotnet;
  dotnet.time = kT0 + absl::Seconds(1);
  dotnet.host = "EXCH01";
  dotnet.provider = Provider::kDotNetRuntime;
  dotnet.event_id = 1026;
  dotnet.detail = "Application: w3wp.exe Exception Info: System.StackOverflowException";
  Feed(dotnet);
  Event elsewhere = dotnet;
  elsewhere.host = "OTHER";
  Feed(elsewhere);
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(2 + i), 100 + i));
  ASSERT_EQ(alerts().size(), 1u);
  const Evidence& last = alerts()[0].evidence(alerts()[0].evidence_size() - 1);
  EXPECT_EQ(last.kind(), "context");
  EXPECT_EQ(last.provider(), ".NET Runtime");
  EXPECT_THAT(last.detail(), HasSubstr("StackOverflowException"));
  EXPECT_EQ(alerts()[0].evidence_size(), 4) << "3 failures + 1 companion of this host only";
}

TEST_F(RapidFailDetectorTest, KeepsTheLastSixteenCompanionsOldestFirst) {
  // 20 companions: the first 4 fall out of the host's ring, the rest come oldest first.
  for (int i = 0; i < 20; ++i) {
    Event dotnet;
    dotnet.time = kT0 + absl::Milliseconds(100 * i);
    dotnet.host = "EXCH01";
    dotnet.provider = Provider::kDotNetRuntime;
    dotnet.event_id = 1026;
    dotnet.detail =
        "Application: w3wp.exe Exception Info: System.StackOverflowException #" + std::to_string(i);
    Feed(dotnet);
  }
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(2 + i), 100 + i));
  ASSERT_EQ(alerts().size(), 1u);
  std::vector<std::string> context;
  for (const Evidence& e : alerts()[0].evidence()) {
    if (e.kind() == "context") context.push_back(e.detail().substr(e.detail().rfind('#')));
  }
  ASSERT_EQ(context.size(), 16u);
  EXPECT_EQ(context.front(), "#4");
  EXPECT_EQ(context.back(), "#19");
  for (size_t i = 1; i < context.size(); ++i) {
    EXPECT_EQ(context[i], "#" + std::to_string(i + 4)) << "oldest first";
  }
}

TEST_F(RapidFailDetectorTest, KeepsEachHostsRingApartInAFleet) {
  // Five hosts interleaved, host h sending 10 + 5h companions: hosts 0 and 1 never fill their
  // ring, the others wrap by 4, 9 and 14. Each host's alert carries only its own, oldest first.
  const int kHosts = 5;
  for (int round = 0; round < 30; ++round) {
    for (int h = 0; h < kHosts; ++h) {
      if (round >= 10 + 5 * h) continue;
      Event dotnet;
      dotnet.time = kT0 + absl::Milliseconds(10 * round + h);
      dotnet.host = "WEB" + std::to_string(h);
      dotnet.provider = Provider::kDotNetRuntime;
      dotnet.event_id = 1026;
      dotnet.detail = "Application: w3wp.exe Exception Info: System.StackOverflowException " +
                      dotnet.host + "#" + std::to_string(round);
      Feed(dotnet);
    }
  }
  for (int h = 0; h < kHosts; ++h) {
    for (int i = 0; i < 3; ++i) {
      Feed(WasFailure(absl::Seconds(2 + i), 100 + i, "OwaPool", "WEB" + std::to_string(h)));
    }
  }
  ASSERT_EQ(alerts().size(), static_cast<size_t>(kHosts));
  for (const Alert& alert : alerts()) {
    const int h = alert.host().back() - '0';
    const int sent = 10 + 5 * h;
    const int first = std::max(0, sent - 16);
    std::vector<std::string> context;
    for (const Evidence& e : alert.evidence()) {
      if (e.kind() == "context") context.push_back(e.detail().substr(e.detail().rfind(' ') + 1));
    }
    ASSERT_EQ(context.size(), static_cast<size_t>(sent - first)) << alert.host();
    for (size_t i = 0; i < context.size(); ++i) {
      EXPECT_EQ(context[i], alert.host() + "#" + std::to_string(first + i)) << "oldest first";
    }
  }
}

TEST_F(RapidFailDetectorTest, AppliesThresholdsPerPoolAndHostPattern) {
  RapidFailConfig config;
  config.overrides = {{.patterns = {"EXCH*", "MSExchange*"},
                       .values = {.max_crashes = 10, .burst_threshold = 6},
                       .keys = {"max_crashes", "burst_threshold"}}};
  Make(config);
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(i), 100 + i, "MSExchangeOWAAppPool"));
  EXPECT_TRUE(alerts().empty()) << "the override raised the thresholds for this pool";
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(i), 200 + i, "DefaultAppPool"));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing"));
  Feed(WasFailure(absl::Seconds(6), 106, "MSExchangeOWAAppPool"));
  EXPECT_EQ(alerts().back().app_pool(), "MSExchangeOWAAppPool");
}

TEST_F(RapidFailDetectorTest, EvictsTheLeastRecentlySeenPoolsBeyondMaxKeys) {
  Make({}, {.max_keys = 100});
  for (int i = 0; i < 1000; ++i) {
    Feed(WasFailure(absl::Milliseconds(i), i + 1, "pool" + std::to_string(i)));
  }
  const Detector::Stats stats = h_->detector().stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.keys, 4 * 100u) << "each of its maps stays within max_keys";
}

TEST_F(RapidFailDetectorTest, ForgetsIdlePoolsAsEventTimeMovesOn) {
  for (int i = 0; i < 500; ++i)
    Feed(WasFailure(absl::Seconds(i), i + 1, "pool" + std::to_string(i)));
  h_->Advance(kT0 + absl::Hours(1));
  EXPECT_EQ(h_->detector().stats().keys, 0u);
  EXPECT_EQ(h_->detector().stats().evictions, 0u);
}

TEST_F(RapidFailDetectorTest, CountsALateFailureInsideTheWindow) {
  Feed(WasFailure(absl::Seconds(60), 2));
  Feed(WasFailure(absl::Seconds(90), 3));
  Feed(WasFailure(absl::Seconds(0), 1));  // arrives last, happened first (within lateness)
  ASSERT_EQ(alerts().size(), 1u);
  EXPECT_EQ(FromProtoTime(alerts()[0].first_event_time()), kT0);
  EXPECT_EQ(alerts()[0].evidence(0).pid(), 1u);
}

TEST_F(RapidFailDetectorTest, CountsAFailureBeyondTheLatenessIntoAnIncidentStillOpen) {
  Feed(WasFailure(absl::Minutes(10), 3));
  Feed(WasFailure(absl::Minutes(10), 4));
  Feed(WasFailure(absl::Minutes(6), 1));  // 4 minutes late, but its incident is open
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing"));
  EXPECT_EQ(h_->engine().stats().too_late.load(), 0u);
}

TEST_F(RapidFailDetectorTest, DropsALateFailureThatWouldReopenAClosedIncident) {
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(10 * i), 100 + i));
  h_->Advance(kT0 + absl::Minutes(20));  // resolved
  ASSERT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_worker_failure_burst resolved"));
  Feed(WasFailure(absl::Seconds(30), 103));  // of the closed incident, 20 minutes late
  EXPECT_EQ(Log().size(), 2u) << "no second incident from the past";
  EXPECT_EQ(h_->engine().stats().too_late.load(), 1u);
}

// Fed as from a forwarder whose messages reach Kafka at `arrive` (kT0-relative).
Event Arriving(Event e, absl::Duration arrive) {
  e.origin.broker_time = kT0 + arrive;
  return e;
}

TEST_F(RapidFailDetectorTest, ADisableBeforeItsFailuresWaitsSoTheWarningComesFirst) {
  // Out of order within the allowance: the 5002 arrives first.
  Feed(Disabled(absl::Seconds(100)));
  EXPECT_TRUE(alerts().empty()) << "held for the failures IIS counted";
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(20 * i), 100 + i));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing",
                                 "iis_rapid_fail_imminent firing", "iis_app_pool_disabled firing"));
  EXPECT_EQ(alerts()[2].incident_id(), alerts()[0].incident_id());
}

TEST_F(RapidFailDetectorTest, AHeldDisableIsRaisedWhenItsHostsTimePassesIt) {
  Feed(Disabled(absl::Seconds(0)));  // no failure forwarded at all
  EXPECT_TRUE(alerts().empty());
  h_->Advance(kT0 + absl::Minutes(2) + absl::Seconds(1));  // the host's watermark passes it
  ASSERT_THAT(Log(), ElementsAre("iis_app_pool_disabled firing"));
  EXPECT_THAT(alerts()[0].summary(), HasSubstr("check that WAS warnings (5009-5013) reach"));
}

TEST_F(RapidFailDetectorTest, ADisableBeyondTheLatenessStillRaisesItsAlertWithTheEvidence) {
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(20 * i), 100 + i));
  Feed(Recycled(absl::Minutes(4), 200));  // the host's System channel has moved on
  Feed(Disabled(absl::Seconds(100)));     // 2m20s late: beyond the allowance
  ASSERT_EQ(Log().back(), "iis_app_pool_disabled firing");
  EXPECT_EQ(alerts().back().count(), 5u) << "the failures still in state";
  EXPECT_EQ(h_->engine().stats().too_late.load(), 0u);
}

TEST_F(RapidFailDetectorTest, AnotherHostsClockNeverClosesThisHostsIncident) {
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(10 * i), 100 + i));
  // Other hosts on the same partition, their clocks in 2099 and a day ahead of the broker's.
  Feed(Arriving(WasFailure(absl::Hours(24 * 365 * 73), 1, "Pool", "FUTURE01"), absl::Seconds(25)));
  Feed(Arriving(WasFailure(absl::Hours(24), 1, "Pool", "TOMORROW01"), absl::Seconds(26)));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing")) << "still open";
  Feed(WasFailure(absl::Seconds(40), 103));  // this host's 4th failure counts into it
  EXPECT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_rapid_fail_imminent firing"));
  EXPECT_EQ(h_->engine().stats().clock_ahead.load(), 2u);
}

TEST_F(RapidFailDetectorTest, ALaggingHostsIncidentIsDetectedAsIfLive) {
  // The host's forwarder is an hour behind the broker; another host is live beside it.
  for (int i = 0; i < 5; ++i) {
    const absl::Duration now = absl::Hours(1) + absl::Seconds(20 * i);
    Feed(Arriving(WasFailure(absl::Seconds(20 * i), 100 + i), now));
    Event live = Recycled(now, 500 + i);
    live.host = "LIVE01";
    Feed(live);
  }
  Feed(Arriving(Disabled(absl::Seconds(81)), absl::Hours(1) + absl::Seconds(81)));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing",
                                 "iis_rapid_fail_imminent firing", "iis_app_pool_disabled firing"));
  EXPECT_NEAR(alerts()[0].detection_delay_seconds(), 3600, 1);
  EXPECT_THAT(alerts()[0].summary(), HasSubstr("Detected 1 hour after it happened."));
}

TEST_F(RapidFailDetectorTest, ASilentHostsIncidentResolvesAsTheArrivalClockMovesOn) {
  for (int i = 0; i < 3; ++i)
    Feed(Arriving(WasFailure(absl::Seconds(10 * i), 100 + i), absl::Seconds(10 * i)));
  // EXCH01 goes silent; another host keeps the stream moving.
  for (int m = 1; m <= 10; ++m) {
    Event other = Recycled(absl::Minutes(m), 900 + m);
    other.host = "OTHER01";
    Feed(other);
  }
  EXPECT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_worker_failure_burst resolved"));
  EXPECT_EQ(FromProtoTime(alerts()[1].last_event_time()),
            kT0 + absl::Seconds(20) + absl::Minutes(5))
      << "resolved on its own time: its last failure plus the interval";
}

TEST_F(RapidFailDetectorTest, ASilentHostsPoolStaysDisabledButALiveHostsTimesOut) {
  RapidFailConfig config;
  config.disabled_resolve_after = absl::Minutes(30);
  Make(config);
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(10 * i), 100 + i));
  Feed(Disabled(absl::Seconds(50)));
  // EXCH01 says nothing more for two hours while the stream moves on.
  for (int m = 1; m <= 120; ++m) {
    Event other = Recycled(absl::Minutes(m), 900 + m);
    other.host = "OTHER01";
    Feed(other);
  }
  // The failures' window drained (on its time, moved on by its silence); the pool is another
  // matter: nobody saw it start again.
  EXPECT_THAT(Log(),
              ElementsAre("iis_worker_failure_burst firing", "iis_rapid_fail_imminent firing",
                          "iis_app_pool_disabled firing", "iis_worker_failure_burst resolved",
                          "iis_rapid_fail_imminent resolved"));
  // Its own events show it alive, with no worker of the pool: it times out on its own time.
  h_->Advance(kT0 + absl::Hours(2) + absl::Minutes(5));
  EXPECT_EQ(Log().back(), "iis_app_pool_disabled resolved");
}

TEST_F(RapidFailDetectorTest, GivesTheSameFingerprintForTheSameIncident) {
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(i), 100 + i));
  auto other = RapidFailDetector::Create({}, {});
  ASSERT_TRUE(other.ok());
  DetectorHarness again(std::move(*other));
  for (int i = 0; i < 3; ++i) again.Feed(WasFailure(absl::Seconds(i), 100 + i));
  ASSERT_EQ(alerts().size(), 1u);
  ASSERT_EQ(again.alerts().size(), 1u);
  EXPECT_EQ(alerts()[0].fingerprint(), again.alerts()[0].fingerprint());
}

TEST_F(RapidFailDetectorTest, TreatsIis6W3svcEventsLikeWas) {
  for (int i = 0; i < 4; ++i) {
    Event e = WasFailure(absl::Seconds(i), 10 + i, "DefaultAppPool", "WEB6", 1009 + i);
    e.provider = Provider::kW3svc;
    Feed(e);
  }
  Event disabled = Disabled(absl::Seconds(5), "DefaultAppPool", "WEB6", kW3svcAppPoolDisabled);
  disabled.provider = Provider::kW3svc;
  Feed(disabled);
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing",
                                 "iis_rapid_fail_imminent firing", "iis_app_pool_disabled firing"));
}

TEST_F(RapidFailDetectorTest, CountsOnlyTheConfiguredFailureEvents) {
  RapidFailConfig config;
  config.failure_events = {5009, 5011};  // ping failures (5010) do not count
  Make(config);
  for (int i = 0; i < 5; ++i) {
    Feed(WasFailure(absl::Seconds(i), 100 + i, "OwaPool", "EXCH01", kWasWorkerPingFailed));
  }
  EXPECT_TRUE(alerts().empty());
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(10 + i), 200 + i));
  EXPECT_THAT(Log(), ElementsAre("iis_worker_failure_burst firing"));
  auto bad = testing::ReadSettings(RapidFailConfig::Schema(), "failure_events: [5002, 5009, 5009]",
                                   "detect.iis_rapid_fail");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("detect.iis_rapid_fail.failure_events: 5002 is not a worker failure"));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("5009 is listed twice"));
}

TEST_F(RapidFailDetectorTest, SkipsDisabledRules) {
  RapidFailConfig config;
  config.rules.burst = false;
  config.rules.disabled = false;
  Make(config);
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(i), 100 + i));
  Feed(Disabled(absl::Seconds(6)));
  EXPECT_THAT(Log(), ElementsAre("iis_rapid_fail_imminent firing"));
}

TEST(RapidFailDetectorCreateTest, ReportsEveryBadSettingAtOnceWithItsLine) {
  auto c = testing::ReadSettings(RapidFailConfig::Schema(), R"(max_crashes: 1
burst_threshold: 0
interval: -5s
rules: {iis_rapid_fail_imminent: maybe}
overrides:
  - app_pool: "X*"
    max_crashes: 0
  - {app_pool: "Y*"}
)",
                                 "detect.iis_rapid_fail");
  ASSERT_FALSE(c.ok());
  const std::string message(c.status().message());
  EXPECT_THAT(message, HasSubstr("1:14: detect.iis_rapid_fail.max_crashes: must be a whole number "
                                 "from 2 to 100000, got \"1\""));
  EXPECT_THAT(message, HasSubstr("2:18: detect.iis_rapid_fail.burst_threshold"));
  EXPECT_THAT(message, HasSubstr("3:11: detect.iis_rapid_fail.interval: must be a duration more "
                                 "than 0"));
  EXPECT_THAT(message,
              HasSubstr("4:34: detect.iis_rapid_fail.rules.iis_rapid_fail_imminent: must be true "
                        "or false"));
  EXPECT_THAT(message, HasSubstr("7:18: detect.iis_rapid_fail.overrides[0].max_crashes"));
  EXPECT_THAT(message, HasSubstr("8:5: detect.iis_rapid_fail.overrides[1].host: the override sets "
                                 "none of max_crashes, interval, burst_threshold"));
}

TEST(RapidFailDetectorCreateTest, BuildsNothingWhenEveryRuleIsOff) {
  RapidFailConfig config;
  config.rules.burst = false;
  config.rules.imminent = false;
  config.rules.disabled = false;
  auto d = RapidFailDetector::Create(config, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, nullptr);
}

}  // namespace
}  // namespace faultline

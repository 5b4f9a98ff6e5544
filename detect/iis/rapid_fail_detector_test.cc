#include "detect/iis/rapid_fail_detector.h"

#include "detect/testing/collecting_output.h"
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

Event Disabled(absl::Duration at, std::string pool = "OwaPool", std::string host = "EXCH01") {
  Event e = WasFailure(at, 0, std::move(pool), std::move(host), kWasAppPoolDisabled);
  return e;
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
  void Make(DetectConfig config = {}) {
    auto d = RapidFailDetector::Create(config);
    ASSERT_TRUE(d.ok()) << d.status();
    detector_ = std::move(*d);
  }
  void Feed(const Event& e) { detector_->OnEvent(e, out_); }
  void SetUp() override { Make(); }

  std::unique_ptr<Detector> detector_;
  CollectingOutput out_;
};

TEST_F(RapidFailDetectorTest, BurstFiresAtTheThirdFailureNotTheSecond) {
  Feed(WasFailure(absl::Seconds(0), 101));
  Feed(WasFailure(absl::Seconds(30), 102));
  EXPECT_TRUE(out_.alerts.empty());
  Feed(WasFailure(absl::Seconds(60), 103));
  ASSERT_THAT(out_.rules(), ElementsAre("iis_worker_failure_burst"));
  const Alert& a = out_.alerts[0];
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.severity(), "warning");
  EXPECT_EQ(a.status(), "firing");
  EXPECT_EQ(a.host(), "EXCH01");
  EXPECT_EQ(a.app_pool(), "OwaPool");
  EXPECT_EQ(a.window_seconds(), 300u);
  EXPECT_EQ(FromProtoTime(a.first_event_time()), kT0);
  EXPECT_EQ(FromProtoTime(a.last_event_time()), kT0 + absl::Seconds(60));
}

TEST_F(RapidFailDetectorTest, IgnoresFailuresSpreadWiderThanTheInterval) {
  Feed(WasFailure(absl::Minutes(0), 101));
  Feed(WasFailure(absl::Minutes(3), 102));
  Feed(WasFailure(absl::Minutes(6), 103));  // the first is 6 minutes old: only 2 in the window
  Feed(WasFailure(absl::Minutes(9), 104));
  EXPECT_TRUE(out_.alerts.empty());
}

TEST_F(RapidFailDetectorTest, CountsAFailureExactlyOneIntervalOldAsExpired) {
  Feed(WasFailure(absl::Minutes(0), 101));
  Feed(WasFailure(absl::Minutes(1), 102));
  Feed(WasFailure(absl::Minutes(5), 103));
  EXPECT_TRUE(out_.alerts.empty());
  Feed(WasFailure(absl::Minutes(5) + absl::Seconds(1), 104));
  EXPECT_THAT(out_.rules(), ElementsAre("iis_worker_failure_burst"));
}

TEST_F(RapidFailDetectorTest, WarnsImminentAtTheFourthFailureBeforeThePoolIsDisabled) {
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(20 * i), 100 + i));
  Feed(Disabled(absl::Seconds(81)));
  ASSERT_THAT(out_.rules(), ElementsAre("iis_worker_failure_burst", "iis_rapid_fail_imminent",
                                        "iis_app_pool_disabled"));
  EXPECT_EQ(out_.alerts[1].count(), 4u);
  EXPECT_EQ(out_.alerts[1].severity(), "critical");
  EXPECT_THAT(out_.alerts[1].summary(), HasSubstr("one more before"));
}

TEST_F(RapidFailDetectorTest, DisabledAlertCarriesTheFailuresWithDecodedCodes) {
  Event first = WasFailure(absl::Seconds(0), 4312, "OwaPool", "EXCH01", kWasWorkerTerminated);
  first.exit_code = 0x800703E9;
  Feed(first);
  for (int i = 1; i < 5; ++i) Feed(WasFailure(absl::Seconds(20 * i), 7000 + i));
  Feed(Disabled(absl::Seconds(100)));
  ASSERT_EQ(out_.alerts.size(), 3u);
  const Alert& a = out_.alerts[2];
  EXPECT_EQ(a.rule(), "iis_app_pool_disabled");
  EXPECT_EQ(a.count(), 5u);
  std::vector<uint32_t> pids;
  for (const Evidence& e : a.evidence()) pids.push_back(e.pid());
  EXPECT_THAT(pids, ElementsAre(4312, 7001, 7002, 7003, 7004, 0)) << "failures, then the 5002";
  EXPECT_EQ(a.evidence(0).exit_code(), "0x800703E9");
  EXPECT_EQ(a.evidence(0).meaning(), "stack overflow");
  EXPECT_EQ(a.evidence(5).event_id(), kWasAppPoolDisabled);
  EXPECT_THAT(a.summary(), HasSubstr("0x800703E9 stack overflow"));
  EXPECT_EQ(FromProtoTime(a.last_event_time()), kT0 + absl::Seconds(100));
}

TEST_F(RapidFailDetectorTest, CountsACrashSeenByApplicationErrorThenWasOnce) {
  Feed(AppCrash(absl::Seconds(0), 4312, 0xC00000FD));
  Feed(WasFailure(absl::Seconds(13), 4312));
  Feed(WasFailure(absl::Seconds(40), 4313));
  EXPECT_TRUE(out_.alerts.empty()) << "two failures, not three";
  Feed(WasFailure(absl::Seconds(50), 4314));
  ASSERT_EQ(out_.alerts.size(), 1u);
  EXPECT_EQ(out_.alerts[0].count(), 3u);
  EXPECT_EQ(out_.alerts[0].evidence(0).exception_code(), "0xC00000FD");
  EXPECT_EQ(out_.alerts[0].evidence(0).faulting_module(), "clr.dll");
}

TEST_F(RapidFailDetectorTest, CountsACrashSeenByWasThenApplicationErrorOnce) {
  Feed(WasFailure(absl::Seconds(0), 4312));
  Feed(AppCrash(absl::Seconds(2), 4312, 0xC0000005));
  Feed(WasFailure(absl::Seconds(30), 4313));
  EXPECT_TRUE(out_.alerts.empty());
  Feed(WasFailure(absl::Seconds(40), 4314));
  ASSERT_EQ(out_.alerts.size(), 1u);
  EXPECT_EQ(out_.alerts[0].evidence(0).exception_code(), "0xC0000005");
  EXPECT_EQ(out_.alerts[0].evidence(0).meaning(), "access violation in native code");
}

TEST_F(RapidFailDetectorTest, DoesNotCorrelateCrashesOutsideTheCorrelationWindow) {
  Feed(AppCrash(absl::Seconds(0), 4312, 0xC00000FD));
  Feed(WasFailure(absl::Minutes(3), 4312));  // default correlation window: 2 minutes
  Feed(WasFailure(absl::Minutes(3) + absl::Seconds(1), 4313));
  Feed(WasFailure(absl::Minutes(3) + absl::Seconds(2), 4314));
  ASSERT_EQ(out_.alerts.size(), 1u);
  EXPECT_EQ(out_.alerts[0].evidence(0).exception_code(), "");
}

TEST_F(RapidFailDetectorTest, IgnoresApplicationErrorsOfOtherProgramsAndNeverCountsThemAlone) {
  Feed(AppCrash(absl::Seconds(0), 1, 0xC0000005, "notepad.exe"));
  for (int i = 0; i < 5; ++i) Feed(AppCrash(absl::Seconds(i), 200 + i, 0xC0000005));
  EXPECT_TRUE(out_.alerts.empty()) << "an Application Error names no pool";
}

TEST_F(RapidFailDetectorTest, CountsTheSameWorkerPidOnlyOnce) {
  Feed(WasFailure(absl::Seconds(0), 4312, "OwaPool", "EXCH01", kWasWorkerTerminated));
  Feed(WasFailure(absl::Seconds(1), 4312));  // a 5011 for the worker that already died
  Feed(WasFailure(absl::Seconds(2), 4312));  // redelivered by an at-least-once forwarder
  Feed(WasFailure(absl::Seconds(3), 4313));
  EXPECT_TRUE(out_.alerts.empty());
}

TEST_F(RapidFailDetectorTest, KeepsPoolsAndHostsApart) {
  Feed(WasFailure(absl::Seconds(0), 1, "A", "H1"));
  Feed(WasFailure(absl::Seconds(1), 2, "B", "H1"));
  Feed(WasFailure(absl::Seconds(2), 3, "A", "H2"));
  Feed(WasFailure(absl::Seconds(3), 4, "A", "H1"));
  EXPECT_TRUE(out_.alerts.empty());
  Feed(WasFailure(absl::Seconds(4), 5, "A", "H1"));
  ASSERT_EQ(out_.alerts.size(), 1u);
  EXPECT_EQ(out_.alerts[0].host(), "H1");
  EXPECT_EQ(out_.alerts[0].app_pool(), "A");
}

TEST_F(RapidFailDetectorTest, FiresEachRuleOncePerIncidentAndAgainForTheNext) {
  for (int i = 0; i < 10; ++i) Feed(WasFailure(absl::Seconds(10 * i), 100 + i));
  EXPECT_THAT(out_.rules(), ElementsAre("iis_worker_failure_burst", "iis_rapid_fail_imminent"));
  const std::string first_fingerprint = out_.alerts[0].fingerprint();
  // The window drains; a new run of failures is a new incident with a new fingerprint.
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Minutes(30) + absl::Seconds(i), 200 + i));
  ASSERT_EQ(out_.alerts.size(), 3u);
  EXPECT_EQ(out_.alerts[2].rule(), "iis_worker_failure_burst");
  EXPECT_NE(out_.alerts[2].fingerprint(), first_fingerprint);
}

TEST_F(RapidFailDetectorTest, CountsALateFailureInsideTheWindow) {
  Feed(WasFailure(absl::Seconds(60), 2));
  Feed(WasFailure(absl::Seconds(90), 3));
  Feed(WasFailure(absl::Seconds(0), 1));  // arrives last, happened first
  ASSERT_EQ(out_.alerts.size(), 1u);
  EXPECT_EQ(FromProtoTime(out_.alerts[0].first_event_time()), kT0);
  EXPECT_EQ(out_.alerts[0].evidence(0).pid(), 1u);
}

TEST_F(RapidFailDetectorTest, GivesTheSameFingerprintForTheSameIncident) {
  for (int i = 0; i < 3; ++i) Feed(WasFailure(absl::Seconds(i), 100 + i));
  CollectingOutput again;
  auto other = RapidFailDetector::Create({});
  ASSERT_TRUE(other.ok());
  for (int i = 0; i < 3; ++i) (*other)->OnEvent(WasFailure(absl::Seconds(i), 100 + i), again);
  ASSERT_EQ(out_.alerts.size(), 1u);
  ASSERT_EQ(again.alerts.size(), 1u);
  EXPECT_EQ(out_.alerts[0].fingerprint(), again.alerts[0].fingerprint());
}

TEST_F(RapidFailDetectorTest, TreatsIis6W3svcEventsLikeWas) {
  for (int i = 0; i < 4; ++i) {
    Event e = WasFailure(absl::Seconds(i), 10 + i, "DefaultAppPool", "WEB6", 1009 + i);
    e.provider = Provider::kW3svc;
    Feed(e);
  }
  Event disabled = Disabled(absl::Seconds(5), "DefaultAppPool", "WEB6");
  disabled.provider = Provider::kW3svc;
  disabled.event_id = kW3svcAppPoolDisabled;
  Feed(disabled);
  EXPECT_THAT(out_.rules(), ElementsAre("iis_worker_failure_burst", "iis_rapid_fail_imminent",
                                        "iis_app_pool_disabled"));
}

TEST_F(RapidFailDetectorTest, FollowsConfiguredThresholds) {
  DetectConfig config;
  config.iis_rapid_fail.max_crashes = 3;
  config.iis_rapid_fail.burst_threshold = 5;
  config.iis_rapid_fail.interval = absl::Minutes(1);
  config.labels = {{"team", "exchange"}};
  Make(config);
  Feed(WasFailure(absl::Seconds(0), 1));
  Feed(WasFailure(absl::Seconds(30), 2));
  ASSERT_THAT(out_.rules(), ElementsAre("iis_rapid_fail_imminent"));
  EXPECT_EQ(out_.alerts[0].window_seconds(), 60u);
  EXPECT_EQ(out_.alerts[0].labels().at("team"), "exchange");
}

TEST_F(RapidFailDetectorTest, SkipsDisabledRules) {
  DetectConfig config;
  config.iis_rapid_fail.burst_enabled = false;
  config.iis_rapid_fail.disabled_enabled = false;
  Make(config);
  for (int i = 0; i < 5; ++i) Feed(WasFailure(absl::Seconds(i), 100 + i));
  Feed(Disabled(absl::Seconds(6)));
  EXPECT_THAT(out_.rules(), ElementsAre("iis_rapid_fail_imminent"));
}

TEST_F(RapidFailDetectorTest, ReportsDisabledWithoutPriorFailuresAsAnIncidentOfItsOwn) {
  Feed(Disabled(absl::Seconds(0)));
  Feed(Disabled(absl::Seconds(1)));  // the same incident: no second alert
  ASSERT_THAT(out_.rules(), ElementsAre("iis_app_pool_disabled"));
  EXPECT_EQ(out_.alerts[0].count(), 0u);
}

TEST_F(RapidFailDetectorTest, ForgetsDrainedPoolsSoStateStaysBounded) {
  auto d = RapidFailDetector::Create({});
  ASSERT_TRUE(d.ok());
  auto* detector = static_cast<RapidFailDetector*>(d->get());
  CollectingOutput out;
  for (int i = 0; i < 5000; ++i) {
    detector->OnEvent(WasFailure(absl::Seconds(i * 10), i, "pool" + std::to_string(i)), out);
  }
  // Each pool saw one failure 10 s apart from the next pool's; only the last 5 minutes matter.
  EXPECT_LT(detector->pools_tracked(), 2100u);
}

TEST(RapidFailDetectorCreateTest, ReportsEveryBadSettingAtOnce) {
  DetectConfig config;
  config.iis_rapid_fail.max_crashes = 1;
  config.iis_rapid_fail.burst_threshold = 0;
  config.iis_rapid_fail.interval = absl::Seconds(-5);
  auto d = RapidFailDetector::Create(config);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(d.status().message());
  EXPECT_THAT(message, HasSubstr("detect.iis_rapid_fail.max_crashes: must be at least 2, got 1"));
  EXPECT_THAT(message, HasSubstr("detect.iis_rapid_fail.burst_threshold"));
  EXPECT_THAT(message, HasSubstr("detect.iis_rapid_fail.interval: must be positive, got -5s"));
}

TEST(RapidFailDetectorCreateTest, BuildsNothingWhenEveryRuleIsOff) {
  DetectConfig config;
  config.iis_rapid_fail.burst_enabled = false;
  config.iis_rapid_fail.imminent_enabled = false;
  config.iis_rapid_fail.disabled_enabled = false;
  auto d = RapidFailDetector::Create(config);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, nullptr);
}

}  // namespace
}  // namespace faultline

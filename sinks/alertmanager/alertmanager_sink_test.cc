// The Alertmanager sink: its body (golden) and its transport against the real Alertmanager
// (Debian's prometheus-alertmanager on a loopback port).
#include "sinks/alertmanager/alertmanager_sink.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "sinks/testing/golden.h"
#include "sinks/testing/make_sink.h"
#include "sinks/testing/peer_process.h"

namespace faultline {
namespace {

using testing::OptionValue;

using ::testing::HasSubstr;
using testing::SampleAlert;
using testing::SampleResolvedAlert;

TEST(AlertmanagerBodyTest, LabelsIdentifyTheAlertAndEndsAtFollowsItsStatus) {
  const Alert firing = SampleAlert(), resolved = SampleResolvedAlert();
  const Alert* batch[] = {&firing, &resolved};
  const absl::Time now = absl::FromUnixSeconds(1773134200);
  const std::string body = AlertmanagerBody(batch, now, absl::Minutes(4), "http://faultline/");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  testing::ExpectGolden("sinks/alertmanager/testdata/alerts.json", body + "\n");
  EXPECT_THAT(body, HasSubstr("\"endsAt\":\"2026-03-10T09:20:40.000Z\"")) << "firing: now + 4m";
  EXPECT_THAT(body, HasSubstr("\"endsAt\":\"2026-03-10T09:16:40.000Z\"")) << "resolved: now";
}

// One alert as Alertmanager's GET /api/v2/alerts shows it.
struct Shown {
  std::string alertname, state, fingerprint_annotation, ends_at;
};

std::vector<Shown> ShownAlerts(const std::string& am_url) {
  const auto [status, body] = testing::HttpGet(am_url + "/api/v2/alerts");
  std::vector<Shown> out;
  simdjson::dom::parser parser;
  simdjson::dom::array alerts;
  if (status != 200 || parser.parse(body).get_array().get(alerts) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element a : alerts) {
    Shown s;
    std::string_view v;
    if (a["labels"]["alertname"].get_string().get(v) == simdjson::SUCCESS) s.alertname = v;
    if (a["status"]["state"].get_string().get(v) == simdjson::SUCCESS) s.state = v;
    if (a["annotations"]["fingerprint"].get_string().get(v) == simdjson::SUCCESS) {
      s.fingerprint_annotation = v;
    }
    if (a["endsAt"].get_string().get(v) == simdjson::SUCCESS) s.ends_at = v;
    out.push_back(s);
  }
  return out;
}

class AlertmanagerSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FAULTLINE_REQUIRE_BINARY(testing::kAlertmanagerBinary);
    am_ =
        testing::StartAlertmanager(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_NE(am_.process, nullptr) << "Alertmanager did not become ready";
  }
  std::unique_ptr<Sink> Make(std::map<std::string, OptionValue> options) {
    auto sink = testing::MakeSink("alertmanager", AlertmanagerSink::Config::Schema(),
                                  &AlertmanagerSink::Create, std::move(options));
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? std::move(*sink) : nullptr;
  }
  static absl::Status Deliver(Sink& sink, const Alert& alert) {
    const Alert* batch[] = {&alert};
    return sink.Deliver(batch);
  }
  // Alerts carry event times from 2026-03; Alertmanager compares endsAt with its own clock, so
  // the test alert happened a minute ago.
  static Alert Recent(Alert a) {
    const absl::Time start = RealClock::Get().TimeNow() - absl::Minutes(1);
    *a.mutable_first_event_time() = ToProtoTime(start);
    *a.mutable_last_event_time() = ToProtoTime(start + absl::Seconds(30));
    return a;
  }
  testing::Alertmanager am_;
};

TEST_F(AlertmanagerSinkTest, TheAlertIsActiveInAlertmanagerAndResolves) {
  auto sink = Make({{"url", am_.url}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleAlert())).ok());
  std::vector<Shown> shown = ShownAlerts(am_.url);
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].alertname, "iis_app_pool_disabled");
  EXPECT_EQ(shown[0].state, "active");
  EXPECT_EQ(shown[0].fingerprint_annotation, "3e8a92279cfaa532");

  ASSERT_TRUE(Deliver(*sink, Recent(SampleResolvedAlert())).ok());
  EXPECT_TRUE(ShownAlerts(am_.url).empty()) << "resolved alerts leave the active list";
}

TEST_F(AlertmanagerSinkTest, ResendsFiringAlertsSoTheyStayActiveAndStopsAfterResolution) {
  auto sink = Make({{"url", am_.url}, {"resend_interval", "1s"}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleAlert())).ok());
  const std::string first_ends = ShownAlerts(am_.url).at(0).ends_at;
  absl::SleepFor(absl::Milliseconds(1200));
  sink->Tick(RealClock::Get().TimeNow());
  const std::vector<Shown> after = ShownAlerts(am_.url);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0].ends_at, first_ends) << "the resend moved endsAt forward";
  EXPECT_EQ(dynamic_cast<AlertmanagerSink&>(*sink).active(), 1u);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleResolvedAlert())).ok());
  EXPECT_EQ(dynamic_cast<AlertmanagerSink&>(*sink).active(), 0u) << "nothing left to resend";
}

TEST_F(AlertmanagerSinkTest, StopsResendingAnAlertNotUpdatedForResendFor) {
  auto sink = Make({{"url", am_.url}, {"resend_interval", "1s"}, {"resend_for", "1h"}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleAlert())).ok());
  auto& am = dynamic_cast<AlertmanagerSink&>(*sink);
  am.Tick(RealClock::Get().TimeNow() + absl::Minutes(30));
  EXPECT_EQ(am.active(), 1u) << "still resent within resend_for";
  am.Tick(RealClock::Get().TimeNow() + absl::Minutes(61));
  EXPECT_EQ(am.active(), 0u) << "its resolution went missing: no longer resent";
}

TEST_F(AlertmanagerSinkTest, AnAlertNotResentExpiresInAlertmanagerByItself) {
  // A 1 s resend interval gives endsAt = now + 4 s: if faultline stops, the alert resolves.
  auto sink = Make({{"url", am_.url}, {"resend_interval", "1s"}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleAlert())).ok());
  ASSERT_EQ(ShownAlerts(am_.url).size(), 1u);
  absl::SleepFor(absl::Seconds(5));
  EXPECT_TRUE(ShownAlerts(am_.url).empty());
}

TEST_F(AlertmanagerSinkTest, DeliversWhenOneOfSeveralAlertmanagersIsDown) {
  auto sink = Make({{"url", OptionValue::List({"http://127.0.0.1:1", am_.url})}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleAlert())).ok());
  EXPECT_EQ(ShownAlerts(am_.url).size(), 1u);
}

TEST_F(AlertmanagerSinkTest, RetriesWhenEveryAlertmanagerIsDown) {
  auto sink = Make({{"url", OptionValue::List({"http://127.0.0.1:1", "http://127.0.0.1:2"})}});
  ASSERT_NE(sink, nullptr);
  const absl::Status s = Deliver(*sink, Recent(SampleAlert()));
  EXPECT_TRUE(IsRetryable(s)) << s;
}

TEST_F(AlertmanagerSinkTest, ARefusedAlertIsNotRetried) {
  Alert bad = Recent(SampleAlert());
  // Alertmanager validates label names: 0.25 (Debian 12) by Prometheus' classic rule, 0.28
  // (Debian 13) accepts any UTF-8; an empty name is refused by both.
  (*bad.mutable_labels())[""] = "x";
  auto sink = Make({{"url", am_.url}});
  ASSERT_NE(sink, nullptr);
  const absl::Status s = Deliver(*sink, bad);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(IsRetryable(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 400"));
}

TEST_F(AlertmanagerSinkTest, ARefusedResolutionIsNotResentAsFiringForever) {
  auto sink = Make({{"url", am_.url}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, Recent(SampleAlert())).ok());
  ASSERT_EQ(dynamic_cast<AlertmanagerSink&>(*sink).active(), 1u);
  Alert resolved = Recent(SampleResolvedAlert());
  (*resolved.mutable_labels())[""] = "x";
  const absl::Status s = Deliver(*sink, resolved);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(IsRetryable(s)) << s;
  EXPECT_EQ(dynamic_cast<AlertmanagerSink&>(*sink).active(), 0u);
}

}  // namespace
}  // namespace faultline

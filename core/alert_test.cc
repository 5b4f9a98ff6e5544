#include "core/alert.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

TEST(AlertToJsonTest, PrintsEveryFieldOfTheStableShapeEvenWhenEmpty) {
  Alert alert;
  alert.set_rule("iis_app_pool_disabled");
  alert.set_count(5);
  const std::string json = AlertToJson(alert);
  for (const char* field :
       {"\"rule\":\"iis_app_pool_disabled\"", "\"severity\":", "\"status\":", "\"host\":",
        "\"app_pool\":", "\"service\":", "\"count\":5", "\"window_seconds\":0",
        "\"fingerprint\":", "\"summary\":", "\"evidence\":[]", "\"labels\":{}"}) {
    EXPECT_THAT(json, HasSubstr(field));
  }
  EXPECT_EQ(json.find('\n'), std::string::npos) << "one alert per line";
}

TEST(AlertToJsonTest, WritesTimesAsRfc3339Utc) {
  Alert alert;
  *alert.mutable_first_event_time() =
      ToProtoTime(absl::FromUnixSeconds(1773134043) + absl::Milliseconds(472));
  EXPECT_THAT(AlertToJson(alert), HasSubstr("\"first_event_time\":\"2026-03-10T09:14:03.472Z\""));
}

// AlertToJson writes by hand what protobuf's printer writes: compared byte for byte on alerts of
// every shape (times set or not, with and without a fraction, before the epoch and at the ends
// of RFC 3339's range; evidence or none; doubles of every size; text that needs escaping, which
// goes to protobuf's printer).
TEST(AlertToJsonTest, WritesWhatProtobufsPrinterWritesOnEveryShapeOfAlert) {
  std::mt19937_64 rng(20261207);
  const std::vector<std::string> texts = {
      "",
      "WEB0162.corp.contoso.com",
      "Service 'SQL Server (MSSQLSERVER)' terminated 3 time(s) in 27s: a crash loop.",
      "a \"quoted\" name",
      "back\\slash",
      "<b>&amp;</b> a=b",
      "line\nbreak\ttab",
      "\x1b[2J",
      "Gr\xc3\xb6\xc3\x9f"
      "e \xe6\x9c\x8d\xe5\x8a\xa1",
      "\xe2\x80\xae"
      "gnp.exe",
      "\x7f",
      "~!@#$%^*()_+`-[]{}|;:,./?"};
  const std::vector<double> doubles = {0,     1.34,  1420.39,  0.1,     1e-7,  123456789.123,
                                       1e21,  3e300, 2.5e-300, 1.0 / 3, 86400, 600.000001,
                                       -3600, -0.25};
  const std::vector<int64_t> seconds = {0, 1773134043, -1, -62135596800, 253402300799, 1796560863};
  const std::vector<int32_t> nanos = {0, 472000000, 1000, 123456789, 999999999, 5000000};
  auto pick = [&rng](const auto& v) { return v[rng() % v.size()]; };
  // Mostly text written by hand (the first three, and ASCII protobuf does not escape), else any.
  auto text = [&]() -> std::string {
    return rng() % 8 != 0 ? texts[rng() % 3] + " it's a=b & c" : pick(texts);
  };
  auto time = [&] {
    google::protobuf::Timestamp t;
    t.set_seconds(pick(seconds));
    t.set_nanos(pick(nanos));
    return t;
  };
  int by_hand = 0;
  for (int i = 0; i < 3000; ++i) {
    Alert a;
    a.set_rule(text());
    a.set_severity(i % 2 ? "critical" : "warning");
    a.set_status(i % 3 ? "firing" : "resolved");
    a.set_host(text());
    a.set_app_pool(text());
    a.set_service(text());
    a.set_count(static_cast<uint32_t>(rng()));
    a.set_window_seconds(static_cast<uint32_t>(rng() % 100000));
    if (rng() % 4 != 0) *a.mutable_first_event_time() = time();
    if (rng() % 4 != 0) *a.mutable_last_event_time() = time();
    a.set_fingerprint(StableId({std::to_string(i)}));
    a.set_summary(text());
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) {
      Evidence* e = a.add_evidence();
      e->set_provider(text());
      e->set_event_id(static_cast<uint32_t>(rng() % 70000));
      if (rng() % 5 != 0) *e->mutable_time() = time();
      e->set_pid(static_cast<uint32_t>(rng()));
      e->set_exit_code(rng() % 2 ? "0xC00000FD" : "");
      e->set_exception_code(text());
      e->set_meaning(text());
      e->set_faulting_module(text());
      e->set_record_id(rng() % 3 ? rng() % 100000 : rng());
      e->set_kind("failure");
      e->set_detail(text());
    }
    if (rng() % 3 == 0) (*a.mutable_labels())[text()] = text();
    a.set_incident_id(StableId({"incident", std::to_string(i)}));
    a.set_sequence(static_cast<uint32_t>(rng() % 10));
    a.set_detection_delay_seconds(pick(doubles) * (rng() % 2 ? 1 : 7.3));
    a.set_host_clock_offset_seconds(pick(doubles));
    const std::string reference = AlertToJsonByProtobuf(a);
    const std::string by_us = AlertToJson(a);
    if (by_us != reference) {
      const size_t at = static_cast<size_t>(
          std::mismatch(by_us.begin(), by_us.end(), reference.begin(), reference.end()).first -
          by_us.begin());
      const size_t from = at < 60 ? 0 : at - 60;
      FAIL() << "alert " << i << " differs at " << at
             << ":\n  ours:     " << by_us.substr(from, 160)
             << "\n  protobuf: " << reference.substr(from, 160);
    }
    by_hand += std::none_of(reference.begin(), reference.end(), [](char c) {
      return c == '\\' || static_cast<unsigned char>(c) > 0x7e;
    });
  }
  EXPECT_GT(by_hand, 300) << "the comparison covers the hand-written path";
}

TEST(AlertToJsonTest, WritesSeveralLabelsSortedByKey) {
  Alert a;
  (*a.mutable_labels())["team"] = "web";
  (*a.mutable_labels())["env"] = "prod";
  (*a.mutable_labels())["zone"] = "eu-west";
  EXPECT_THAT(AlertToJson(a),
              HasSubstr("\"labels\":{\"env\":\"prod\",\"team\":\"web\",\"zone\":\"eu-west\"}"));
}

TEST(ProtoTimeTest, RoundTripsBeforeAndAfterTheEpoch) {
  for (absl::Time t :
       {absl::FromUnixNanos(1'700'000'000'123'456'789), absl::FromUnixNanos(-1'500'000'001)}) {
    EXPECT_EQ(FromProtoTime(ToProtoTime(t)), t);
  }
}

TEST(StableIdTest, IsTheSameAcrossCallsAndSeparatesParts) {
  EXPECT_EQ(StableId({"a", "b"}), StableId({"a", "b"}));
  EXPECT_NE(StableId({"ab", "c"}), StableId({"a", "bc"}));
  EXPECT_EQ(StableId({"a", "b"}).size(), 16u);
  // Pinned: fingerprints must not change between releases or machines.
  EXPECT_EQ(StableId({}), "cbf29ce484222325");
}

}  // namespace
}  // namespace faultline

#include "core/alert.h"

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

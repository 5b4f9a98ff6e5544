#include "ingest/parse/time_parse.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

absl::Time Parse(std::string_view s) {
  absl::Time t = absl::InfinitePast();
  EXPECT_TRUE(ParseIso8601(s, &t)) << s;
  return t;
}

TEST(ParseIso8601Test, ReadsWinlogbeatTimestamps) {
  EXPECT_EQ(Parse("2019-08-02T09:46:20.000Z"), absl::FromUnixSeconds(1564739180));
  EXPECT_EQ(Parse("2020-05-13T13:21:43.1831809Z"),
            absl::FromUnixSeconds(1589376103) + absl::Nanoseconds(183180900));
}

TEST(ParseIso8601Test, AppliesOffsetsWithAndWithoutColon) {
  const absl::Time utc = Parse("2025-12-18T23:12:13Z");
  EXPECT_EQ(Parse("2025-12-18T18:12:13-05:00"), utc);
  EXPECT_EQ(Parse("2025-12-18 18:12:13 -0500"), utc);  // Fluent Bit TimeCreated (%z)
  EXPECT_EQ(Parse("2025-12-19T00:42:13+01:30"), utc);
}

TEST(ParseIso8601Test, AcceptsUnpaddedFieldsAsMicrosoftDocsRenderThem) {
  EXPECT_EQ(Parse("2011-1-1T1:11:11.000000000Z"), Parse("2011-01-01T01:11:11Z"));
}

TEST(ParseIso8601Test, ReadsZonelessTimesInTheGivenZone) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  absl::Time t;
  ASSERT_TRUE(ParseIso8601("2019-01-02 08:15:51", &t, &berlin));
  EXPECT_EQ(t, Parse("2019-01-02T07:15:51Z"));
  ASSERT_TRUE(ParseIso8601("2019-07-02 08:15:51", &t, &berlin));
  EXPECT_EQ(t, Parse("2019-07-02T06:15:51Z")) << "summer time";
  ASSERT_TRUE(ParseIso8601("2019-07-02 08:15:51+00:00", &t, &berlin));
  EXPECT_EQ(t, Parse("2019-07-02T08:15:51Z")) << "an explicit offset wins";
}

TEST(ParseIso8601Test, TreatsZonelessTimesAsUtc) {
  EXPECT_EQ(Parse("2019-01-02 08:15:51"), Parse("2019-01-02T08:15:51Z"));
}

TEST(ParseIso8601Test, HandlesLeapDaysAndYearEnds) {
  EXPECT_EQ(Parse("2024-02-29T00:00:00Z") + absl::Hours(24), Parse("2024-03-01T00:00:00Z"));
  EXPECT_EQ(Parse("1999-12-31T23:59:59Z") + absl::Seconds(1), Parse("2000-01-01T00:00:00Z"));
}

TEST(ParseIso8601Test, RejectsMalformedAndOutOfRangeTimes) {
  absl::Time t;
  for (std::string_view bad :
       {"", "2019", "2019-08-02", "2019-13-02T00:00:00Z", "2023-02-29T00:00:00Z",
        "2019-08-02T24:00:00Z", "2019-08-02T09:46:20.Z", "2019-08-02T09:46:20Zjunk",
        "2019-08-02T09:46:20+5", "2019-08-02X09:46:20Z", "20190802T094620Z", "1564739180.5",
        "2019-123-02T00:00:00Z", "2019-08-02T09:46", "2019-08-02T"}) {
    EXPECT_FALSE(ParseIso8601(bad, &t)) << bad;
  }
}

TEST(HasZoneTest, TellsZoneQualifiedTimesFromLocalOnes) {
  EXPECT_TRUE(HasZone("2020-10-21T08:45:35.994Z"));
  EXPECT_TRUE(HasZone("2025-12-18 18:12:13 -0500"));
  EXPECT_TRUE(HasZone("2019-07-02T08:15:51.5+01:00"));
  EXPECT_FALSE(HasZone("2020-10-19 03:30:46.416"));
  EXPECT_FALSE(HasZone("2019-01-02 08:15:51"));
}

TEST(IsPlausibleEventTimeTest, AcceptsFrom1970UpTo2100) {
  EXPECT_TRUE(IsPlausibleEventTime(Parse("1970-01-01T00:00:00Z")));
  EXPECT_TRUE(IsPlausibleEventTime(Parse("2099-12-31T23:59:59.999Z")));
  EXPECT_FALSE(IsPlausibleEventTime(Parse("2100-01-01T00:00:00Z")));
  EXPECT_FALSE(IsPlausibleEventTime(Parse("1969-12-31T23:59:59Z")));
  EXPECT_FALSE(IsPlausibleEventTime(Parse("1601-01-01T00:00:00Z"))) << "FILETIME zero";
  EXPECT_FALSE(IsPlausibleEventTime(Parse("9999-12-31T23:59:59Z")));
}

}  // namespace
}  // namespace faultline

#include "ingest/parse/event_fields.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

Event Resolve(Provider provider, uint32_t id, const RawFields& raw) {
  Event e;
  e.provider = provider;
  e.event_id = id;
  ResolveEventFields(raw, &e);
  return e;
}

TEST(ResolveEventFieldsTest, PrefersNamedDataOverPositions) {
  RawFields raw;
  raw.Add("AppPoolID", "NamedPool");
  raw.Add("ProcessID", "28828");
  raw.Add("param1", "PositionalPool");
  const Event e = Resolve(Provider::kWas, 5011, raw);
  EXPECT_EQ(e.app_pool, "NamedPool");
  EXPECT_EQ(e.pid, 28828u);
}

TEST(ResolveEventFieldsTest, ReadsWas5009ByPositionWithHexExitCode) {
  RawFields raw;
  raw.Add("param1", "DefaultAppPool");
  raw.Add("param2", "4312");
  raw.Add("param3", "800703e9");
  const Event e = Resolve(Provider::kWas, 5009, raw);
  EXPECT_EQ(e.app_pool, "DefaultAppPool");
  EXPECT_EQ(e.pid, 4312u);
  EXPECT_EQ(e.exit_code, 0x800703E9u);
}

TEST(ResolveEventFieldsTest, ReadsRecycleEventsWithPidFirstAndPoolSecond) {
  RawFields raw;
  raw.Add("param1", "5120");
  raw.Add("param2", "SharePointPool");
  for (uint32_t id : {5074u, 5080u, 5186u}) {
    const Event e = Resolve(Provider::kWas, id, raw);
    EXPECT_EQ(e.app_pool, "SharePointPool") << id;
    EXPECT_EQ(e.pid, 5120u) << id;
  }
}

TEST(ResolveEventFieldsTest, FallsBackToTheMessageText) {
  RawFields raw;
  raw.message =
      "A process serving application pool 'OWA Pool' terminated unexpectedly. The process id "
      "was '4312'. The process exit code was '0xc0000005'.";
  const Event e = Resolve(Provider::kWas, 5009, raw);
  EXPECT_EQ(e.app_pool, "OWA Pool");
  EXPECT_EQ(e.pid, 4312u);
  EXPECT_EQ(e.exit_code, 0xC0000005u);
}

TEST(ResolveEventFieldsTest, ReadsLegacyApplicationErrorWithHexPid) {
  RawFields raw;  // the real legacy layout of Application Error 1000 (was5011_and_apperror1000)
  const char* values[] = {"w3wp.exe",     "8.5.9600.16384",   "5215df96",
                          "MSVCR120.dll", "12.0.21005.1",     "524f83ff",
                          "c0000409",     "000000000006dd27", "709c"};
  for (int i = 0; i < 9; ++i) raw.params[i] = values[i];
  const Event e = Resolve(Provider::kApplicationError, 1000, raw);
  EXPECT_EQ(e.faulting_app, "w3wp.exe");
  EXPECT_EQ(e.faulting_module, "MSVCR120.dll");
  EXPECT_EQ(e.exception_code, 0xC0000409u);
  EXPECT_EQ(e.pid, 28828u);  // 0x709c: the same worker as the WAS 5011 of the fixture
}

TEST(ResolveEventFieldsTest, ReadsNamedApplicationErrorWith0xPid) {
  RawFields raw;
  raw.Add("AppName", "w3wp.exe");
  raw.Add("ModuleName", "clr.dll");
  raw.Add("ExceptionCode", "c00000fd");
  raw.Add("ProcessId", "0x10d8");
  const Event e = Resolve(Provider::kApplicationError, 1000, raw);
  EXPECT_EQ(e.pid, 4312u);
  EXPECT_EQ(e.exception_code, 0xC00000FDu);
  EXPECT_EQ(e.faulting_module, "clr.dll");
}

TEST(ResolveEventFieldsTest, ReadsServiceCrashCountFromPositionsOrMessage) {
  RawFields raw;
  raw.Add("param1", "World Wide Web Publishing Service");
  raw.Add("param2", "3");
  Event e = Resolve(Provider::kServiceControlManager, 7031, raw);
  EXPECT_EQ(e.service, "World Wide Web Publishing Service");
  EXPECT_EQ(e.occurrences, 3u);

  RawFields text;
  text.message =
      "The IIS Admin Service service terminated unexpectedly.  It has done this 2 time(s).";
  e = Resolve(Provider::kServiceControlManager, 7034, text);
  EXPECT_EQ(e.service, "IIS Admin Service");
  EXPECT_EQ(e.occurrences, 2u);
}

TEST(ResolveEventFieldsTest, LeavesFieldsEmptyForEventsItDoesNotKnow) {
  RawFields raw;
  raw.Add("param1", "something");
  const Event e = Resolve(Provider::kOther, 6005, raw);
  EXPECT_TRUE(e.app_pool.empty());
  EXPECT_EQ(e.pid, 0u);
}

TEST(ParseUint32Test, ReadsDecimalHexAndRejectsJunk) {
  uint32_t v = 0;
  EXPECT_TRUE(ParseUint32("4312", false, &v));
  EXPECT_EQ(v, 4312u);
  EXPECT_TRUE(ParseUint32("0x10D8", false, &v));
  EXPECT_EQ(v, 4312u);
  EXPECT_TRUE(ParseUint32("ffffffff", true, &v));
  EXPECT_EQ(v, 0xFFFFFFFFu);
  EXPECT_FALSE(ParseUint32("4294967296", false, &v));
  EXPECT_FALSE(ParseUint32("12a", false, &v));
  EXPECT_FALSE(ParseUint32("", false, &v));
  EXPECT_FALSE(ParseUint32("0x", false, &v));
}

TEST(RawFieldsTest, IgnoresParamsBeyondItsCapacity) {
  RawFields raw;
  EXPECT_FALSE(raw.Add("param17", "x"));
  EXPECT_FALSE(raw.Add("param0", "x"));
  EXPECT_TRUE(raw.Add("param16", "x"));
  EXPECT_EQ(raw.params[15], "x");
}

}  // namespace
}  // namespace faultline

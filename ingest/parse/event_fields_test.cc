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

TEST(DecodeUtf16LeBinaryTest, ReadsHexAsWindowsRendersIt) {
  std::string out;
  ASSERT_TRUE(DecodeUtf16LeBinary("570033005300560043002F0034000000", &out));
  EXPECT_EQ(out, "W3SVC/4");
}

TEST(DecodeUtf16LeBinaryTest, ReadsBase64AsPythonEvtxRendersIt) {
  std::string out;
  ASSERT_TRUE(DecodeUtf16LeBinary("VwAzAFMAVgBDAC8ANAA=", &out));
  EXPECT_EQ(out, "W3SVC/4");
}

TEST(DecodeUtf16LeBinaryTest, KeepsNonAsciiCharactersWhole) {
  std::string hex, b64;
  ASSERT_TRUE(DecodeUtf16LeBinary("4D00FC006C006C0065007200530076006300", &hex));
  EXPECT_EQ(hex, "M\xc3\xbcllerSvc") << "not cut at the umlaut";
  ASSERT_TRUE(DecodeUtf16LeBinary("TQD8AGwAbABlAHIAUwB2AGMA", &b64));
  EXPECT_EQ(b64, hex) << "one service, one key, whoever rendered it";
  std::string emoji;
  ASSERT_TRUE(DecodeUtf16LeBinary("3DD800DE7800", &emoji));
  EXPECT_EQ(emoji, "\xf0\x9f\x98\x80x") << "a surrogate pair";
}

TEST(DecodeUtf16LeBinaryTest, RefusesWhatIsNotAName) {
  std::string out = "stale";
  EXPECT_FALSE(DecodeUtf16LeBinary("01000200", &out)) << "control characters";
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(DecodeUtf16LeBinary("00DC4100", &out)) << "an unpaired low surrogate";
  EXPECT_FALSE(DecodeUtf16LeBinary("5700330", &out)) << "odd length";
  EXPECT_FALSE(DecodeUtf16LeBinary("not binary!", &out));
  EXPECT_FALSE(DecodeUtf16LeBinary("", &out));
  EXPECT_FALSE(DecodeUtf16LeBinary(std::string(4000, 'A'), &out)) << "longer than any name";
  std::string long_ascii;
  for (int i = 0; i < 600; ++i) long_ascii += "4100";
  EXPECT_FALSE(DecodeUtf16LeBinary(long_ascii, &out)) << "plain letters, still too long";
  EXPECT_FALSE(DecodeUtf16LeBinary("570000005X00", &out)) << "not hex after the NUL";
}

TEST(DecodeUtf16LeBinaryTest, StopsAtTheNul) {
  std::string out;
  ASSERT_TRUE(DecodeUtf16LeBinary("570033000000FC00", &out));
  EXPECT_EQ(out, "W3") << "what follows the terminator is not the name";
}

TEST(ResolveEventFieldsTest, FallsBackToTheDisplayNameWhenTheBinaryIsNotAName) {
  RawFields raw;
  raw.Add("param1", "World Wide Web Publishing Service");
  raw.Add("param2", "3");
  raw.binary = "00DC4100";
  const Event e = Resolve(Provider::kServiceControlManager, 7031, raw);
  EXPECT_EQ(e.service, "World Wide Web Publishing Service");
}

TEST(ResolveEventFieldsTest, TakesTheServiceKeyFromABase64Binary) {
  RawFields raw;
  raw.Add("param1", "Welt-Dienst von M\xc3\xbcller");
  raw.binary = "TQD8AGwAbABlAHIAUwB2AGMA";
  const Event e = Resolve(Provider::kServiceControlManager, 7034, raw);
  EXPECT_EQ(e.service, "M\xc3\xbcllerSvc");
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

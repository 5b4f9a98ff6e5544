#include "ingest/parse/windows_xml.h"

#include "core/testing/shared_fixtures.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using testing::ReadFile;
using testing::SharedPath;

constexpr char kWas5011[] = R"(<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Microsoft-Windows-WAS" Guid="{524B5D04-133C-4A62-8362-64E8EDB9CE40}" EventSourceName="WAS" />
    <EventID Qualifiers="32768">5011</EventID>
    <Level>3</Level>
    <TimeCreated SystemTime="2017-06-15T14:27:23.000000000Z" />
    <EventRecordID>272960</EventRecordID>
    <Execution ProcessID="0" ThreadID="0" />
    <Channel>System</Channel>
    <Computer>WEB01</Computer>
  </System>
  <EventData>
    <Data Name="AppPoolID">Pool &amp; &lt;Friends&gt; &#x263A;</Data>
    <Data Name="ProcessID">28828</Data>
    <Binary>6D000780</Binary>
  </EventData>
</Event>)";

TEST(WindowsXmlParserTest, ReadsTheSystemHeaderAndNamedData) {
  WindowsXmlParser parser;
  Event e;
  RawFields raw;
  ASSERT_EQ(parser.Parse(kWas5011, &e, &raw), ParseError::kOk);
  EXPECT_EQ(e.provider_name, "Microsoft-Windows-WAS");
  EXPECT_EQ(e.event_id, 5011u);
  EXPECT_EQ(e.level, 3);
  EXPECT_EQ(e.record_id, 272960u);
  EXPECT_EQ(e.channel, "System");
  EXPECT_EQ(e.host, "WEB01");
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1497536843));
  EXPECT_EQ(raw.app_pool, "Pool & <Friends> \xE2\x98\xBA") << "entities decoded";
  EXPECT_EQ(raw.pid, "28828") << "the Execution header pid (0) is not event data";
  EXPECT_EQ(raw.binary, "6D000780");
}

TEST(WindowsXmlParserTest, ReadsUnnamedDataByPositionIncludingEmptyOnes) {
  WindowsXmlParser parser;
  Event e;
  RawFields raw;
  ASSERT_EQ(parser.Parse(R"(<Event><System><Provider Name="W3SVC"/><EventID>1009</EventID>)"
                         R"(<TimeCreated SystemTime="2024-01-01T00:00:00Z"/><Computer>h</Computer>)"
                         R"(</System><EventData><Data>Pool</Data><Data/><Data>c0000005</Data>)"
                         R"(</EventData></Event>)",
                         &e, &raw),
            ParseError::kOk);
  EXPECT_EQ(raw.params[0], "Pool");
  EXPECT_EQ(raw.params[1], "");
  EXPECT_EQ(raw.params[2], "c0000005");
}

TEST(WindowsXmlParserTest, SkipsCommentsDeclarationsAndQuotedAngleBrackets) {
  WindowsXmlParser parser;
  Event e;
  RawFields raw;
  ASSERT_EQ(parser.Parse(R"(<?xml version="1.0"?><!-- <Event> in a comment --><Events><Event>)"
                         R"(<System><Provider Name="a>b"/><EventID>7</EventID>)"
                         R"(<TimeCreated SystemTime='2024-01-01T00:00:00Z'/><Computer>h</Computer>)"
                         R"(</System></Event></Events>)",
                         &e, &raw),
            ParseError::kOk);
  EXPECT_EQ(e.provider_name, "a>b");
  EXPECT_EQ(e.event_id, 7u);
}

TEST(WindowsXmlParserTest, AllFieldsAddsEveryDataItemDecoded) {
  WindowsXmlParser parser(/*all_fields=*/true);
  Event e;
  RawFields raw;
  ASSERT_EQ(parser.Parse(kWas5011, &e, &raw), ParseError::kOk);
  ASSERT_EQ(e.data.size(), 3u);
  EXPECT_EQ(e.data.name(0), "AppPoolID");
  EXPECT_EQ(e.data.value(0), "Pool & <Friends> \xE2\x98\xBA");
  EXPECT_EQ(e.data.name(1), "ProcessID");
  EXPECT_EQ(e.data.value(1), "28828");
  EXPECT_EQ(e.data.name(2), "Binary");
  EXPECT_EQ(e.data.value(2), "6D000780");
  EXPECT_EQ(raw.app_pool, "Pool & <Friends> \xE2\x98\xBA") << "the detectors' view unchanged";
  std::string_view pid;
  EXPECT_TRUE(e.data.Find("ProcessID", &pid));
  EXPECT_EQ(pid, "28828");

  WindowsXmlParser without;
  Event plain;
  RawFields plain_raw;
  ASSERT_EQ(without.Parse(kWas5011, &plain, &plain_raw), ParseError::kOk);
  EXPECT_EQ(plain.data.size(), 0u);
}

TEST(WindowsXmlParserTest, AllFieldsReadsTheRealLegacyUnnamedDataAsParams) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  // Application Error 1000 then WAS 5011, both with unnamed <Data>.
  const std::string xml = ReadFile(SharedPath(
      "fixtures/real/"
      "was5011_and_apperror1000_w3wp_legacy-unnamed__blog_2017-06-18_diagnosing-process-crashes."
      "xml"));
  WindowsXmlParser parser(/*all_fields=*/true);
  Event e;
  RawFields raw;
  ASSERT_EQ(parser.Parse(xml, &e, &raw), ParseError::kOk);
  ASSERT_GE(e.data.size(), 9u);
  for (size_t i = 0; i < e.data.size(); ++i) {
    EXPECT_EQ(e.data.name(i), "param" + std::to_string(i + 1));
    if (i < RawFields::kMaxParams) {
      EXPECT_EQ(e.data.value(i), raw.params[i]);
    }
  }
  EXPECT_EQ(e.data.value(0), "w3wp.exe");
}

TEST(WindowsXmlParserTest, RejectsWhatIsNotAWindowsEvent) {
  WindowsXmlParser parser;
  auto parse = [&](std::string_view xml) {
    Event e;
    RawFields raw;
    return ParseErrorName(parser.Parse(xml, &e, &raw));
  };
  EXPECT_EQ(parse("<html><body/></html>"), "unknown_envelope");
  EXPECT_EQ(parse("<Event><System><Computer>h</Computer></System></Event>"), "no_event_id");
  EXPECT_EQ(parse("<Event><System><EventID>1</EventID></System></Event>"), "no_host");
  EXPECT_EQ(parse("<Event><System><EventID>1</EventID><Computer>h</Computer></System>"),
            "bad_time");
  EXPECT_EQ(parse("<Event><System><EventID>x</EventID></System></Event>"), "no_event_id");
  EXPECT_EQ(parse("<Event><System><EventID>1</Event"), "no_host") << "truncated";
  EXPECT_EQ(parse("<"), "unknown_envelope");
  EXPECT_EQ(parse(""), "unknown_envelope");
}

}  // namespace
}  // namespace faultline

// EnvelopeOptions::all_fields (every event data item into Event::data, per envelope) and the
// evtx_json envelope, on literals and on SigmaHQ's regression data (../shared/fixtures/sigma).
#include <filesystem>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/testing/shared_fixtures.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/parse/envelope_parser.h"
#include "ingest/parse/json_value.h"

namespace faultline {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using testing::ReadFile;
using testing::SharedPath;

using Items = std::vector<std::pair<std::string, std::string>>;

Items ItemsOf(const EventData& data) {
  Items out;
  for (size_t i = 0; i < data.size(); ++i) {
    out.emplace_back(std::string(data.name(i)), std::string(data.value(i)));
  }
  return out;
}

// Parses `message` with all_fields on and off: the detector fields must not depend on it, and
// without it Event::data stays empty. Returns the items.
Items ParseBoth(std::string_view message, Event* out, EnvelopeOptions options = {}) {
  options.all_fields = false;
  EnvelopeParser off(options);
  Event without;
  EXPECT_EQ(ParseErrorName(off.Parse(message, &without)), "ok") << message;
  EXPECT_EQ(without.data.size(), 0u);
  options.all_fields = true;
  EnvelopeParser on(options);
  EXPECT_EQ(ParseErrorName(on.Parse(message, out)), "ok") << message;
  EXPECT_EQ(out->event_id, without.event_id);
  EXPECT_EQ(out->host, without.host);
  EXPECT_EQ(out->time, without.time);
  EXPECT_EQ(out->app_pool, without.app_pool);
  EXPECT_EQ(out->pid, without.pid);
  EXPECT_EQ(out->service, without.service);
  EXPECT_EQ(out->faulting_app, without.faulting_app);
  return ItemsOf(out->data);
}

TEST(EnvelopeAllFieldsTest, WinlogbeatEventDataByNameWithUnescapedValues) {
  Event e;
  const Items items = ParseBoth(
      R"({"@timestamp":"2024-01-01T00:00:00Z","@version":"1","tags":["x"],)"
      R"("winlog":{"provider_name":"Microsoft-Windows-WAS","event_id":"5011","computer_name":"W",)"
      R"("event_data":{"AppPoolID":"Pool \"A\" \u00e9","ProcessID":"28828","Count":3,)"
      R"("Flag":true,"Gone":null,"Binary":"6D00"}}})",
      &e);
  EXPECT_THAT(items,
              ElementsAre(Pair("AppPoolID", "Pool \"A\" \xC3\xA9"), Pair("ProcessID", "28828"),
                          Pair("Count", "3"), Pair("Flag", "true"), Pair("Binary", "6D00")))
      << "@version is Logstash's, not event data; null is no item";
  EXPECT_EQ(e.app_pool, "Pool \"A\" \xC3\xA9");
  EXPECT_EQ(e.pid, 28828u);
}

TEST(EnvelopeAllFieldsTest, WinlogbeatUserDataLeavesByTheirOwnNames) {
  Event e;
  const Items items = ParseBoth(
      R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"provider_name":"P","event_id":1,)"
      R"("computer_name":"W","user_data":{"xml_name":"EventXML","param1":"WmiApRpl",)"
      R"("Nested":{"Inner":"a\\b","Deeper":{"Leaf":7}},"List":["x","y"]}}})",
      &e);
  EXPECT_THAT(items, ElementsAre(Pair("param1", "WmiApRpl"), Pair("Inner", "a\\b"),
                                 Pair("Leaf", "7"), Pair("List", "x"), Pair("List", "y")))
      << "xml_name is Winlogbeat's name of the element, not an item";
}

TEST(EnvelopeAllFieldsTest, Winlogbeat6EventDataAndUserData) {
  Event e;
  const Items items = ParseBoth(
      R"({"@timestamp":"2024-01-01T00:00:00Z","event_id":7036,"source_name":"Service Control )"
      R"(Manager","computer_name":"W","log_name":"System","event_data":{"param1":"Fax",)"
      R"("param2":"stopped"},"user_data":{"xml_name":"X","Query":"SELECT \"*\""}})",
      &e);
  EXPECT_THAT(items, ElementsAre(Pair("param1", "Fax"), Pair("param2", "stopped"),
                                 Pair("Query", "SELECT \"*\"")));
  EXPECT_EQ(e.service, "Fax");
}

TEST(EnvelopeAllFieldsTest, NxlogTopLevelKeysItDoesNotKnowAreItems) {
  Event e;
  // EE: ProcessID is event data (the header pid is ExecutionProcessID).
  const Items items =
      ParseBoth(R"({"EventTime":"2024-01-01T00:00:00Z","Hostname":"W","EventID":5011,)"
                R"("SourceName":"Microsoft-Windows-WAS","Channel":"System","ExecutionProcessID":4,)"
                R"("SourceModuleType":"im_msvistalog","Keywords":-9187343239835811840,)"
                R"("AppPoolID":"A\tB","ProcessID":28828,"Empty":"","Gone":null,"Obj":{"a":1},)"
                R"("Message":"m","EventReceivedTime":"2024-01-01T00:00:01Z"})",
                &e);
  EXPECT_THAT(items,
              ElementsAre(Pair("Keywords", "-9187343239835811840"), Pair("AppPoolID", "A\tB"),
                          Pair("Empty", ""), Pair("ProcessID", "28828")));
  EXPECT_EQ(e.app_pool, "A\tB");
  EXPECT_EQ(e.pid, 28828u);
}

TEST(EnvelopeAllFieldsTest, NxlogCeProcessIdIsTheHeaderNotAnItem) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  Event e;
  const Items items = ParseBoth(
      ReadFile(SharedPath(
          "fixtures/real/nxlog-ce__im_msvistalog_to_json_SCM7036_from_rsyslog_blog.json")),
      &e);
  EXPECT_THAT(items, Contains(Pair("param1", "nxlog")));
  EXPECT_THAT(items, Contains(Pair("param2", "running")));
  EXPECT_THAT(items, Contains(Pair("SeverityValue", "2")));
  for (const char* header : {"ProcessID", "Hostname", "EventTime", "EventID", "SourceName",
                             "Message", "Channel", "RecordNumber", "EventReceivedTime"}) {
    EXPECT_THAT(items, Not(Contains(Pair(header, ::testing::_)))) << header;
  }
}

TEST(EnvelopeAllFieldsTest, NxlogKeysAreNotItemsOfOtherEnvelopes) {
  Event e;
  // Fluent Bit's own top-level header keys (Version, Task, ...) are no event data.
  const Items items = ParseBoth(
      R"({"ProviderName":"Application Error","EventID":1000,"Version":0,"Task":0,)"
      R"("TimeCreated":"2026-03-10 04:14:02 -0500","Computer":"W","Channel":"Application",)"
      R"("StringInserts":["w3wp.exe",10,null,"c:\\w3wp.exe"],)"
      R"("EventData":{"AppName":"w3wp.exe","ProcessId":"0x10d8"}})",
      &e);
  EXPECT_THAT(items, ElementsAre(Pair("param1", "w3wp.exe"), Pair("param2", "10"),
                                 Pair("param4", "c:\\w3wp.exe"), Pair("AppName", "w3wp.exe"),
                                 Pair("ProcessId", "0x10d8")))
      << "a null insertion string keeps its position and gives no item";
  EXPECT_EQ(e.faulting_app, "w3wp.exe");
}

TEST(EnvelopeAllFieldsTest, FluentBitInWinlogStringInsertsAsParams) {
  Event e;
  const Items items = ParseBoth(
      R"({"RecordNumber":3688,"TimeGenerated":"2021-09-22 07:32:21 -0700","EventID":1034,)"
      R"("EventType":"Information","Channel":"Application","SourceName":"S",)"
      R"("ComputerName":"W","Data":"","StringInserts":["AAD \"x\"","100"]})",
      &e);
  EXPECT_THAT(items, ElementsAre(Pair("param1", "AAD \"x\""), Pair("param2", "100")));
}

TEST(EnvelopeAllFieldsTest, XmlDataByNameUnnamedAsParamsAndUserDataLeaves) {
  Event e;
  Items items =
      ParseBoth(R"(<Event><System><Provider Name="Microsoft-Windows-WAS"/><EventID>5011</EventID>)"
                R"(<TimeCreated SystemTime="2024-01-01T00:00:00Z"/><Computer>h</Computer></System>)"
                R"(<EventData><Data Name="AppPoolID">a &amp; &lt;b&gt;</Data><Data Name="Empty"/>)"
                R"(<Data Name="ProcessID">28828</Data><Binary>6D00</Binary></EventData></Event>)",
                &e);
  EXPECT_THAT(items, ElementsAre(Pair("AppPoolID", "a & <b>"), Pair("Empty", ""),
                                 Pair("ProcessID", "28828"), Pair("Binary", "6D00")));
  EXPECT_EQ(e.app_pool, "a & <b>");
  items = ParseBoth(
      R"(<Event><System><Provider Name="Service Control Manager"/><EventID>7036</EventID>)"
      R"(<TimeCreated SystemTime="2024-01-01T00:00:00Z"/><Computer>h</Computer></System>)"
      R"(<EventData><Data>Fax</Data><Data/><Data>&quot;q&quot;</Data></EventData></Event>)",
      &e);
  EXPECT_THAT(items,
              ElementsAre(Pair("param1", "Fax"), Pair("param2", ""), Pair("param3", "\"q\"")));
  items = ParseBoth(
      R"(<Event><System><Provider Name="Microsoft-Windows-WMI-Activity"/><EventID>5858)"
      R"(</EventID><TimeCreated SystemTime="2024-01-01T00:00:00Z"/><Computer>h</Computer>)"
      R"(</System><UserData><Operation_ClientFailure xmlns="http://x"><Id>{0}</Id>)"
      R"(<User>d\u</User><Inner><Leaf>1 &gt; 0</Leaf></Inner><Blank/></Operation_ClientFailure>)"
      R"(</UserData><RenderingInfo><Message>not data</Message></RenderingInfo></Event>)",
      &e);
  EXPECT_THAT(items, ElementsAre(Pair("Id", "{0}"), Pair("User", "d\\u"), Pair("Leaf", "1 > 0"),
                                 Pair("Blank", "")));
}

TEST(EnvelopeAllFieldsTest, XmlUserDataOnlyAddsItemsAndNeverChangesWhatElseIsRead) {
  Event e;
  // Found by the fuzzer: a <UserData> opened inside <EventData> (and never closed) must not
  // hide the <Data> after it.
  const Items items =
      ParseBoth(R"(<Event><System><Provider Name="Application Error"/><EventID>1000</EventID>)"
                R"(<TimeCreated SystemTime="2024-01-01T00:00:00Z"/><Computer>h</Computer></System>)"
                R"(<EventData><UserData Name="x">0</Data><Data Name="AppName">w3wp.exe</Data>)"
                R"(</EventData></Event>)",
                &e);
  EXPECT_EQ(e.faulting_app, "w3wp.exe");
  EXPECT_THAT(items, ElementsAre(Pair("AppName", "w3wp.exe")));
}

TEST(EnvelopeAllFieldsTest, RejectsAnInvalidEscapeOnlyWhenItReadsTheValue) {
  // simdjson On-Demand validates a string when it unescapes it: without all_fields nothing reads
  // Image, so the event is accepted; with it, the document is the invalid JSON it is.
  const std::string doc =
      R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"provider_name":"P","event_id":1,)"
      R"("computer_name":"W","event_data":{"Image":"C:\windows"}}})";
  Event e;
  EXPECT_EQ(ParseErrorName(EnvelopeParser().Parse(doc, &e)), "ok");
  EXPECT_EQ(ParseErrorName(EnvelopeParser({.all_fields = true}).Parse(doc, &e)), "not_json");
}

// A literal of evtx_dump's JSON (omerbenamram/evtx `evtx_dump -o json`).
constexpr char kEvtxWas5011[] = R"({
  "Event": {
    "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
    "System": {
      "Provider": {"#attributes": {"Name": "Microsoft-Windows-WAS",
                                   "Guid": "{524B5D04-133C-4A62-8362-64E8EDB9CE40}"}},
      "EventID": {"#attributes": {"Qualifiers": 32768}, "#text": 5011},
      "Level": 3,
      "TimeCreated": {"#attributes": {"SystemTime": "2017-06-15T14:27:23.092051Z"}},
      "EventRecordID": 272960,
      "Execution": {"#attributes": {"ProcessID": 0, "ThreadID": 0}},
      "Channel": "System",
      "Computer": "WEB01",
      "Security": null
    },
    "EventData": {
      "#attributes": {"Name": "x"},
      "AppPoolID": "Pool \"A\"",
      "ProcessID": 28828,
      "Binary": "6D000780"
    }
  }
})";

TEST(EvtxJsonEnvelopeTest, ReadsTheSystemHeaderAndTheNamedData) {
  Event e;
  const Items items = ParseBoth(kEvtxWas5011, &e);
  EXPECT_EQ(e.provider_name, "Microsoft-Windows-WAS");
  EXPECT_EQ(e.provider, Provider::kWas);
  EXPECT_EQ(e.event_id, 5011u);
  EXPECT_EQ(e.level, 3);
  EXPECT_EQ(e.record_id, 272960u);
  EXPECT_EQ(e.channel, "System");
  EXPECT_EQ(e.host, "WEB01");
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1497536843) + absl::Microseconds(92051));
  EXPECT_EQ(e.app_pool, "Pool \"A\"");
  EXPECT_EQ(e.pid, 28828u) << "the event data's, not the Execution header's 0";
  EXPECT_THAT(items, ElementsAre(Pair("AppPoolID", "Pool \"A\""), Pair("ProcessID", "28828"),
                                 Pair("Binary", "6D000780")));
  // Forced, it reads the same.
  EnvelopeParser forced({.format = Envelope::kEvtxJson});
  Event f;
  ASSERT_EQ(forced.Parse(kEvtxWas5011, &f), ParseError::kOk);
  EXPECT_EQ(f.pid, 28828u);
  EXPECT_EQ(f.time, e.time);
}

TEST(EvtxJsonEnvelopeTest, ReadsUnnamedDataInEveryShapeAsParams) {
  const std::string head =
      R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},)"
      R"("EventID":7036,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}},)"
      R"("Computer":"h","Channel":"System"},"EventData":)";
  for (const std::string data :
       {R"({"Data":{"#text":["Fax","stopped"]},"Binary":null})", R"({"Data":["Fax","stopped"]})"}) {
    Event e;
    EXPECT_THAT(ParseBoth(head + data + "}}", &e),
                ElementsAre(Pair("param1", "Fax"), Pair("param2", "stopped")))
        << data;
    EXPECT_EQ(e.service, "Fax") << "the display name, by position";
    EXPECT_EQ(e.event_id, 7036u);
  }
  for (const std::string data : {R"({"Data":"Fax"})", R"({"Data":{"#text":"Fax"}})"}) {
    Event e;
    EXPECT_THAT(ParseBoth(head + data + "}}", &e), ElementsAre(Pair("param1", "Fax"))) << data;
  }
  Event e;
  EXPECT_THAT(ParseBoth(head + "null}}", &e), IsEmpty());
}

TEST(EvtxJsonEnvelopeTest, ReadsUserDataLeavesByTheirNames) {
  Event e;
  const Items items = ParseBoth(
      R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-WMI-Activity"}},)"
      R"("EventID":5858,"TimeCreated":{"#attributes":{"SystemTime":"2026-07-02T02:05:27.438557Z"}},)"
      R"("Computer":"h","Channel":"Microsoft-Windows-WMI-Activity/Operational"},)"
      R"("UserData":{"Operation_ClientFailure":{"#attributes":{"xmlns":"http://x"},)"
      R"("Id":"{0}","ClientProcessId":25920,"Operation":"a \"b\" \\\\c",)"
      R"("Sub":{"#attributes":{"k":"v"},"#text":"t"}}}}})",
      &e);
  EXPECT_THAT(items, ElementsAre(Pair("Id", "{0}"), Pair("ClientProcessId", "25920"),
                                 Pair("Operation", "a \"b\" \\\\c"), Pair("Sub", "t")));
}

TEST(EvtxJsonEnvelopeTest, ReadsAnItemWithAttributesByItsText) {
  const std::string head =
      R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-WAS"}},)"
      R"("EventID":5011,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}},)"
      R"("Computer":"h"},"EventData":{"AppPoolID":"P","ProcessID":)";
  Event e;
  EXPECT_THAT(ParseBoth(head + R"({"#attributes":{"t":"x"},"#text":28828}}}})", &e),
              ElementsAre(Pair("AppPoolID", "P"), Pair("ProcessID", "28828")));
  EXPECT_EQ(e.pid, 28828u);
  // Winlogbeat has no such elements: an object where a value belongs is no pid, either way.
  EXPECT_THAT(ParseBoth(R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"provider_name":)"
                        R"("Microsoft-Windows-WAS","event_id":5011,"computer_name":"h",)"
                        R"("event_data":{"AppPoolID":"P","ProcessID":{"#text":"28828"}}}})",
                        &e),
              ElementsAre(Pair("AppPoolID", "P"), Pair("ProcessID", "28828")));
  EXPECT_EQ(e.pid, 0u);
}

TEST(EvtxJsonEnvelopeTest, IsAFormatName) {
  const std::span<const std::pair<Envelope, std::string_view>> span = EnvelopeNames();
  const std::vector<std::pair<Envelope, std::string_view>> names(span.begin(), span.end());
  EXPECT_THAT(names, Contains(Pair(Envelope::kEvtxJson, "evtx_json")));
}

TEST(EvtxJsonEnvelopeTest, RejectsAnEventWithoutItsHeader) {
  EnvelopeParser parser;
  Event e;
  EXPECT_EQ(ParseErrorName(parser.Parse(R"({"Event":{"System":{"Computer":"h"}}})", &e)),
            "no_event_id");
  EXPECT_EQ(ParseErrorName(parser.Parse(R"({"Event":{"System":{"EventID":1}}})", &e)), "no_host");
  EXPECT_EQ(ParseErrorName(parser.Parse(
                R"({"Event":{"System":{"EventID":1,"Computer":"h","TimeCreated":"x"}}})", &e)),
            "bad_time");
  EXPECT_EQ(ParseErrorName(parser.Parse(R"({"Event":"text"})", &e)), "unknown_envelope");
}

// The text Event::data should hold for a scalar: strings as they are, numbers as written.
std::string ScalarText(simdjson::dom::element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(v);
}

// UserData's leaves (attributes aside; null is no leaf), named by their elements.
void Leaves(std::string_view name, simdjson::dom::element v, Items* out) {
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (v.is_null()) return;
  if (v.get(object) == simdjson::SUCCESS) {
    for (auto [key, child] : object) {
      if (key == "#attributes") continue;
      Leaves(key == "#text" ? name : key, child, out);
    }
  } else if (v.get(array) == simdjson::SUCCESS) {
    for (simdjson::dom::element child : array) Leaves(name, child, out);
  } else {
    out->emplace_back(std::string(name), ScalarText(v));
  }
}

TEST(EvtxJsonEnvelopeTest, ParsesEveryDocumentOfSigmaHqRegressionDataWithEveryItem) {
  const std::filesystem::path dir = SharedPath("fixtures/sigma/regression_data");
  if (!std::filesystem::is_directory(dir)) {
    GTEST_SKIP() << dir << " not found: this test needs SigmaHQ's regression data in "
                 << "../shared/fixtures/sigma (CI always has it)";
  }
  EnvelopeParser parser({.all_fields = true});
  simdjson::dom::parser dom;
  int files = 0, documents = 0, user_data = 0;
  size_t items = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string text = ReadFile(entry.path().string());
    for (std::string_view doc : SplitJsonDocuments(text)) {
      ++documents;
      SCOPED_TRACE(entry.path().string() + " document " + std::to_string(documents));
      Event e;
      ASSERT_EQ(ParseErrorName(parser.Parse(doc, &e)), "ok");
      simdjson::dom::element event, system;
      ASSERT_EQ(dom.parse(doc)["Event"].get(event), simdjson::SUCCESS);
      ASSERT_EQ(event["System"].get(system), simdjson::SUCCESS);
      int64_t event_id = 0;
      std::string_view provider, channel, host, time;
      ASSERT_EQ(system["EventID"].get(event_id), simdjson::SUCCESS);
      ASSERT_EQ(system["Provider"]["#attributes"]["Name"].get(provider), simdjson::SUCCESS);
      ASSERT_EQ(system["Channel"].get(channel), simdjson::SUCCESS);
      ASSERT_EQ(system["Computer"].get(host), simdjson::SUCCESS);
      ASSERT_EQ(system["TimeCreated"]["#attributes"]["SystemTime"].get(time), simdjson::SUCCESS);
      EXPECT_EQ(e.event_id, static_cast<uint64_t>(event_id));
      EXPECT_EQ(e.provider_name, provider);
      EXPECT_EQ(e.channel, channel);
      EXPECT_EQ(e.host, host);
      EXPECT_FALSE(provider.empty() || channel.empty() || host.empty());
      absl::Time expected_time;
      std::string error;
      ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, std::string(time), &expected_time, &error))
          << time;
      EXPECT_EQ(e.time, expected_time) << time;

      Items expected;
      simdjson::dom::object data;
      if (event["EventData"].get(data) == simdjson::SUCCESS) {
        for (auto [key, v] : data) {
          if (key == "#attributes" || v.is_null()) continue;
          ASSERT_FALSE(v.is_object() || v.is_array()) << key << ": not a plain named item";
          expected.emplace_back(std::string(key), ScalarText(v));
        }
      }
      simdjson::dom::element user;
      if (event["UserData"].get(user) == simdjson::SUCCESS) {
        ++user_data;
        Leaves("UserData", user, &expected);
      }
      EXPECT_EQ(ItemsOf(e.data), expected);
      items += e.data.size();
    }
  }
  std::cout << "SigmaHQ regression data: " << files << " files, " << documents << " documents ("
            << user_data << " with UserData), " << items << " items in Event::data\n";
  EXPECT_GT(documents, files) << "some files hold several documents";
  EXPECT_GT(items, static_cast<size_t>(documents));
}

}  // namespace
}  // namespace faultline

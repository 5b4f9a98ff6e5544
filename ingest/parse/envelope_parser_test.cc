#include "ingest/parse/envelope_parser.h"

#include <filesystem>
#include <regex>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "core/testing/shared_fixtures.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using testing::ReadFile;
using testing::SharedPath;
using testing::SourcePath;

constexpr char kWas5011[] =
    R"({"@timestamp":"2017-06-15T14:27:23.000Z","log":{"level":"warning"},)"
    R"("message":"A process serving application pool 'Pool' suffered a fatal error.",)"
    R"("winlog":{"provider_name":"Microsoft-Windows-WAS","channel":"System","event_id":5011,)"
    R"("computer_name":"WEB01","record_id":272960,"process":{"pid":0},)"
    R"("event_data":{"AppPoolID":"Pool","ProcessID":"28828","Binary":"6D000780"}}})";

TEST(WinlogbeatEnvelopeTest, ParsesEveryRealWinlogbeat72EventFromKafkaWithZeroRejects) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  std::istringstream in(
      ReadFile(SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl")));
  EnvelopeParser parser;
  Event event;
  int lines = 0, scm_7036 = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    ASSERT_EQ(parser.Parse(line, &event), ParseError::kOk) << "line " << lines << ": " << line;
    EXPECT_FALSE(event.host.empty());
    EXPECT_GT(event.time, absl::FromUnixSeconds(1500000000));
    if (event.provider == Provider::kServiceControlManager && event.event_id == 7036) ++scm_7036;
  }
  EXPECT_EQ(lines, 838);  // 837 newlines; the last line has none
  EXPECT_EQ(scm_7036, 386);
}

TEST(WinlogbeatEnvelopeTest, ReadsTheFirstRealEventFieldByField) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  std::istringstream in(
      ReadFile(SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl")));
  std::string line;
  std::getline(in, line);
  EnvelopeParser parser;
  Event e;
  ASSERT_EQ(parser.Parse(line, &e), ParseError::kOk);
  EXPECT_EQ(e.host, "CLIENT1");
  EXPECT_EQ(e.provider_name, "EventLog");
  EXPECT_EQ(e.channel, "System");
  EXPECT_EQ(e.event_id, 6005u);
  EXPECT_EQ(e.record_id, 11571u);
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1564739180));
}

TEST(WinlogbeatEnvelopeTest, ReadsWinlogbeat8StringEventIdsFromTheRealGoldenFile) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  simdjson::dom::parser dom;
  simdjson::dom::array docs;
  ASSERT_EQ(dom.parse(ReadFile(SharedPath(
                          "fixtures/real/"
                          "elastic-beats__winlogbeat_powershell_collection_600.evtx.golden.json")))
                .get_array()
                .get(docs),
            simdjson::SUCCESS);
  EnvelopeParser parser;
  int n = 0;
  for (simdjson::dom::element doc : docs) {
    Event e;
    ASSERT_EQ(parser.Parse(simdjson::minify(doc), &e), ParseError::kOk);
    EXPECT_EQ(e.event_id, 600u);
    EXPECT_EQ(e.host, "vagrant");
    EXPECT_EQ(e.channel, "Windows PowerShell");
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(WinlogbeatEnvelopeTest, ReadsTheWorkerFieldsOfAWasEvent) {
  EnvelopeParser parser;
  Event e;
  ASSERT_EQ(parser.Parse(kWas5011, &e), ParseError::kOk);
  EXPECT_EQ(e.provider, Provider::kWas);
  EXPECT_EQ(e.event_id, 5011u);
  EXPECT_EQ(e.app_pool, "Pool");
  EXPECT_EQ(e.pid, 28828u) << "the header's process.pid (0) must not hide the worker pid";
  EXPECT_EQ(e.level, 3);
}

TEST(WinlogbeatEnvelopeTest, ParsesTheBundledDemoIncident) {
  std::istringstream in(ReadFile(SourcePath("app/demo/exchange_owa_incident.jsonl")));
  EnvelopeParser parser;
  Event e;
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(parser.Parse(line, &e), ParseError::kOk);
  EXPECT_EQ(e.provider, Provider::kApplicationError);
  EXPECT_EQ(e.pid, 4312u);
  EXPECT_EQ(e.host, "EXCH01.contoso.local") << "computer_name wins over the collector's host.name";
  std::getline(in, line);
  ASSERT_EQ(parser.Parse(line, &e), ParseError::kOk);
  EXPECT_EQ(e.event_id, 5009u);
  EXPECT_EQ(e.exit_code, 0x800703E9u) << "from the message text";
}

TEST(WinlogbeatEnvelopeTest, FallsBackToEventCodeAndHostNameOnlyWithoutAWinlogSection) {
  EnvelopeParser parser;
  Event e;
  // ECS alone (Elastic Agent on the host itself): host.name is the host.
  ASSERT_EQ(parser.Parse(R"({"@timestamp":"2024-01-01T00:00:00Z","event":{"code":"5002"},)"
                         R"("host":{"name":"web7"}})",
                         &e),
            ParseError::kOk);
  EXPECT_EQ(e.event_id, 5002u);
  EXPECT_EQ(e.host, "web7");
  // With a winlog section, host.name is where Winlogbeat runs: on a Windows Event Forwarding
  // collector, the collector. An event without its own computer_name is not blamed on it.
  for (const char* computer : {"", R"("computer_name":"",)"}) {
    const std::string line =
        absl::StrCat(R"({"@timestamp":"2024-01-01T00:00:00Z","event":{"code":"5002"},)",
                     R"("host":{"name":"wec01"},"winlog":{)", computer,
                     R"("provider_name":"WAS","event_data":{"param1":"Pool"}}})");
    EXPECT_EQ(ParseErrorName(parser.Parse(line, &e)), "no_host") << line;
  }
}

TEST(WinlogbeatEnvelopeTest, ReadsAFirstLineThatStartsWithAByteOrderMark) {
  EnvelopeParser parser;
  Event e;
  ASSERT_EQ(parser.Parse(absl::StrCat("\xEF\xBB\xBF", kWas5011), &e), ParseError::kOk);
  EXPECT_EQ(e.pid, 28828u);
}

// The documents of one fixture file as messages: JSON lines, a JSON array, Fluent Bit's stdout
// rendering (Ruby-hash style, `=>`: turned into the JSON out_kafka would send), or XML files
// holding one or more <Event> elements (one message each).
std::vector<std::string> FixtureMessages(const std::filesystem::path& path) {
  const std::string text = ReadFile(path.string());
  std::vector<std::string> out;
  const std::string ext = path.extension().string();
  if (ext == ".xml") {
    for (size_t pos = 0; (pos = text.find("<Event ", pos)) != std::string::npos;) {
      const size_t end = text.find("</Event>", pos);
      if (end == std::string::npos) break;
      out.push_back(text.substr(pos, end + 8 - pos));
      pos = end;
    }
  } else if (ext == ".txt") {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const size_t open = line.find("{\"");
      const size_t close = line.rfind('}');
      if (open == std::string::npos || close == std::string::npos) continue;
      out.push_back(
          std::regex_replace(line.substr(open, close + 1 - open), std::regex("\"=>"), "\":"));
    }
  } else if (!text.empty() && text.find_first_not_of(" \n") != std::string::npos &&
             text[text.find_first_not_of(" \n")] == '[') {
    simdjson::dom::parser dom;
    simdjson::dom::array docs;
    EXPECT_EQ(dom.parse(text).get_array().get(docs), simdjson::SUCCESS) << path;
    for (simdjson::dom::element doc : docs) out.push_back(simdjson::minify(doc));
  } else {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(line);
    }
  }
  return out;
}

TEST(RealFixturesTest, EveryDocumentOfEveryFixtureFileParses) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  EnvelopeParser parser;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SharedPath("fixtures/real"))) {
    if (entry.path().filename() == "SOURCES.md") continue;
    const std::vector<std::string> messages = FixtureMessages(entry.path());
    EXPECT_FALSE(messages.empty()) << entry.path();
    for (const std::string& m : messages) {
      Event e;
      EXPECT_EQ(ParseErrorName(parser.Parse(m, &e)), "ok")
          << entry.path() << ": " << m.substr(0, 300);
      EXPECT_FALSE(e.host.empty());
    }
    ++files;
  }
  EXPECT_EQ(files, 15);
}

// What `faultline rekey` publishes is what the detect stage reads back: every real document,
// parsed from its forwarder's JSON, encoded, and parsed again as faultline_event, is the same
// event field by field.
TEST(RealFixturesTest, EveryDocumentReadsTheSameThroughTheRekeyedForm) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  EnvelopeParser json;
  EnvelopeParser proto({.format = Envelope::kFaultlineEvent});
  EventCodec codec;
  std::string bytes;
  int events = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SharedPath("fixtures/real"))) {
    if (entry.path().filename() == "SOURCES.md") continue;
    for (const std::string& m : FixtureMessages(entry.path())) {
      Event a, b;
      ASSERT_EQ(json.Parse(m, &a), ParseError::kOk) << entry.path();
      codec.Encode(a, &bytes);
      ASSERT_EQ(ParseErrorName(proto.Parse(bytes, &b)), "ok") << entry.path();
      const auto fields = [](const Event& e) {
        return std::make_tuple(e.time, e.host, e.provider_name, e.provider, e.channel, e.event_id,
                               e.level, e.record_id, e.app_pool, e.pid, e.exit_code,
                               e.exception_code, e.service, e.occurrences, e.faulting_app,
                               e.faulting_module, e.detail);
      };
      EXPECT_TRUE(fields(a) == fields(b)) << entry.path() << ": " << m.substr(0, 300);
      ++events;
    }
  }
  EXPECT_EQ(events, 860);  // every document of the 15 files
}

// EnvelopeOptions::all_fields adds Event::data and changes nothing else: every real document
// reads the same with it, and yields items only with it.
TEST(RealFixturesTest, EveryDocumentReadsTheSameWithAllFields) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  EnvelopeParser off;
  EnvelopeParser on({.all_fields = true});
  int events = 0, with_items = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SharedPath("fixtures/real"))) {
    if (entry.path().filename() == "SOURCES.md") continue;
    for (const std::string& m : FixtureMessages(entry.path())) {
      Event a, b;
      ASSERT_EQ(off.Parse(m, &a), ParseError::kOk) << entry.path();
      ASSERT_EQ(on.Parse(m, &b), ParseError::kOk) << entry.path();
      const auto fields = [](const Event& e) {
        return std::make_tuple(e.time, e.host, e.provider_name, e.provider, e.channel, e.event_id,
                               e.level, e.record_id, e.app_pool, e.pid, e.exit_code,
                               e.exception_code, e.service, e.occurrences, e.faulting_app,
                               e.faulting_module, e.detail);
      };
      EXPECT_TRUE(fields(a) == fields(b)) << entry.path() << ": " << m.substr(0, 300);
      EXPECT_EQ(a.data.size(), 0u);
      if (b.data.size() > 0) ++with_items;
      ++events;
    }
  }
  EXPECT_EQ(events, 860);
  EXPECT_GT(with_items, 800);
}

// Winlogbeat 7.2 from Kafka: every key of winlog.event_data and winlog.user_data (but Winlogbeat's
// xml_name) is an item, with its unescaped value.
TEST(WinlogbeatEnvelopeTest, AllFieldsHoldsEveryEventDataKeyOfTheRealCorpus) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  std::istringstream in(
      ReadFile(SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl")));
  EnvelopeParser parser({.all_fields = true});
  simdjson::dom::parser dom;
  Event e;
  size_t items = 0;
  for (std::string line; std::getline(in, line);) {
    ASSERT_EQ(parser.Parse(line, &e), ParseError::kOk);
    std::vector<std::pair<std::string_view, std::string_view>> expected;
    simdjson::dom::object winlog;
    ASSERT_EQ(dom.parse(line)["winlog"].get(winlog), simdjson::SUCCESS);
    for (const char* section : {"event_data", "user_data"}) {
      simdjson::dom::object data;
      if (winlog[section].get(data) != simdjson::SUCCESS) continue;
      for (auto [key, value] : data) {
        if (key == "xml_name") continue;
        std::string_view text;
        ASSERT_EQ(value.get(text), simdjson::SUCCESS) << "Winlogbeat writes strings";
        expected.emplace_back(key, text);
      }
    }
    ASSERT_EQ(e.data.size(), expected.size()) << line;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(e.data.name(i), expected[i].first);
      EXPECT_EQ(e.data.value(i), expected[i].second);
    }
    items += e.data.size();
  }
  EXPECT_GT(items, 1000u);
}

TEST(FaultlineEventFormatTest, RejectsWhatTheRekeyStageDidNotWrite) {
  EnvelopeParser parser({.format = Envelope::kFaultlineEvent});
  Event e;
  EXPECT_EQ(ParseErrorName(parser.Parse(kWas5011, &e)), "not_event_proto");
  EXPECT_EQ(ParseErrorName(parser.Parse(std::string("\x0a\x7f\x01", 3), &e)), "not_event_proto");
  EventCodec codec;
  std::string bytes;
  Event no_host;
  no_host.time = absl::FromUnixSeconds(1'700'000'000);
  codec.Encode(no_host, &bytes);
  EXPECT_EQ(ParseErrorName(parser.Parse(bytes, &e)), "no_host");
  Event no_time;
  no_time.host = "WEB01";
  codec.Encode(no_time, &bytes);  // no event time: the limit of the wire form, 1677
  EXPECT_EQ(ParseErrorName(parser.Parse(bytes, &e)), "bad_time");
  EXPECT_EQ(ParseErrorName(parser.Parse("", &e)), "no_host");  // an empty message is valid
  Event far;
  far.host = "WEB01";
  far.time = absl::FromCivil(absl::CivilSecond(2100, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  codec.Encode(far, &bytes);
  EXPECT_EQ(ParseErrorName(parser.Parse(bytes, &e)), "bad_time");
  // Forced only: auto-detection never takes a forwarder's message for one.
  EnvelopeParser automatic;
  EXPECT_EQ(automatic.Parse(kWas5011, &e), ParseError::kOk);
  EXPECT_EQ(e.pid, 28828u);
}

Event ParseFixture(const std::string& file, size_t index = 0, EnvelopeOptions options = {}) {
  const auto messages = FixtureMessages(SharedPath("fixtures/real/" + file));
  EnvelopeParser parser(options);
  Event e;
  EXPECT_LT(index, messages.size());
  if (index < messages.size()) {
    EXPECT_EQ(ParseErrorName(parser.Parse(messages[index], &e)), "ok");
  }
  return e;
}

TEST(RealFixturesTest, NxlogThroughLogstashWithoutEventTimeKeepsItsOwnTime) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const std::string file = "otrf__nxlog-via-logstash_no_eventtime.jsonl";
  // TimeCreated with a zone (the @timestamp beside it is Logstash's receive time).
  const Event scm = ParseFixture(file, 0);
  EXPECT_EQ(scm.host, "WORKSTATION5");
  EXPECT_EQ(scm.event_id, 7009u);
  EXPECT_EQ(scm.provider, Provider::kServiceControlManager);
  EXPECT_EQ(scm.time, absl::FromUnixMillis(1603269935994)) << "2020-10-21T08:45:35.994Z";
  // TimeCreated without a zone and no @timestamp: local time, read in ingest.local_time_zone.
  EXPECT_EQ(ParseFixture(file, 1).time, absl::FromUnixMillis(1603078246416))
      << "2020-10-19 03:30:46.416 as UTC";
  EnvelopeOptions berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin.local_time_zone));
  EXPECT_EQ(ParseFixture(file, 1, berlin).time,
            absl::FromUnixMillis(1603078246416) - absl::Hours(2))
      << "summer time in Berlin";
  const Event crash = ParseFixture(file, 2);
  EXPECT_EQ(crash.provider, Provider::kApplicationError);
  EXPECT_EQ(crash.host, "DC01.pandalab.com");
  EXPECT_EQ(crash.time, absl::FromUnixMillis(1689744782835)) << "2023-07-19T05:33:02.835Z";
}

TEST(EnvelopeParserTimeTest, PrefersTheEventsOwnTimeAndUsesTheReceiveTimeLast) {
  EnvelopeParser parser;
  Event e;
  const std::string head = R"({"Hostname":"H","SourceName":"WAS","EventID":5011,)";
  // A zone-qualified source time beats a zone-less one, whatever the order of the keys.
  ASSERT_EQ(
      parser.Parse(
          head + R"("EventTime":"2024-01-02 03:04:05","TimeCreated":"2024-01-02T09:00:00Z"})", &e),
      ParseError::kOk);
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1704186000));
  // Only Logstash's @timestamp: the receive time is better than nothing.
  ASSERT_EQ(parser.Parse(head + R"("@timestamp":"2024-01-02T09:00:01Z"})", &e), ParseError::kOk);
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1704186001));
  // NXLog's own EventReceivedTime (zone-less local), the last resort.
  ASSERT_EQ(parser.Parse(head + R"("EventReceivedTime":"2024-01-02 09:00:02"})", &e),
            ParseError::kOk);
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1704186002));
  // A source time that does not parse gives way to the next candidate.
  ASSERT_EQ(
      parser.Parse(head + R"("EventTime":"garbage","TimeCreated":"2024-01-02 09:00:03"})", &e),
      ParseError::kOk);
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1704186003));
}

TEST(EnvelopeParserTimeTest, RejectsTimesNoClockCanHaveAsBadTime) {
  EnvelopeParser parser;
  Event e;
  for (std::string t : {"1601-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
                        "9999-12-31T23:59:59Z"}) {
    const std::string doc =
        R"({"@timestamp":")" + t +
        R"(","winlog":{"computer_name":"H","event_id":5011,"provider_name":"WAS"}})";
    EXPECT_EQ(ParseErrorName(parser.Parse(doc, &e)), "bad_time") << t << " is not clamped";
  }
  const std::string xml =
      R"(<Event><System><Provider Name="WAS"/><EventID>5011</EventID>)"
      R"(<TimeCreated SystemTime="9999-12-31T23:59:59Z"/><Computer>H</Computer></System></Event>)";
  EXPECT_EQ(ParseErrorName(parser.Parse(xml, &e)), "bad_time");
}

TEST(RealFixturesTest, ReadsNxlogCeWithZonelessLocalTimeAndTheServiceKey) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const Event utc = ParseFixture("nxlog-ce__im_msvistalog_to_json_SCM7036_from_rsyslog_blog.json");
  EXPECT_EQ(utc.host, "WIN-ENU956P6HR0");
  EXPECT_EQ(utc.event_id, 7036u);
  EXPECT_EQ(utc.provider, Provider::kServiceControlManager);
  EXPECT_EQ(utc.service, "nxlog");
  EXPECT_EQ(utc.record_id, 80664u);
  EXPECT_EQ(utc.time, absl::FromUnixSeconds(1546416951)) << "2019-01-02 08:15:51 read as UTC";
  EnvelopeOptions berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin.local_time_zone));
  const Event local =
      ParseFixture("nxlog-ce__im_msvistalog_to_json_SCM7036_from_rsyslog_blog.json", 0, berlin);
  EXPECT_EQ(local.time, utc.time - absl::Hours(1));
}

TEST(RealFixturesTest, ReadsNxlogEeWithItsOffset) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const Event e = ParseFixture("nxlog-ee__im_msvistalog_to_json_Security4769_from_scala_test.json");
  EXPECT_EQ(e.host, "hostname3");
  EXPECT_EQ(e.event_id, 4769u);
  EXPECT_EQ(e.channel, "Security");
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1617181426) + absl::Microseconds(974060));
}

TEST(RealFixturesTest, ReadsFluentBitTimeCreatedNotItsReadTime) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const Event e =
      ParseFixture("fluent-bit-4.2.1__in_winevtlog_json_System37_from_victorialogs_blog.json");
  EXPECT_EQ(e.host, "PF1K1CRK");
  EXPECT_EQ(e.event_id, 37u);
  EXPECT_EQ(e.level, 4);
  EXPECT_EQ(e.time, absl::FromUnixSeconds(1766099533)) << "2025-12-18 18:12:13 -0500";
  const Event legacy = ParseFixture("fluent-bit-1.8.7__in_winlog_stdout_issue3383.txt");
  EXPECT_EQ(legacy.host, "Redacted_Computer_Name");
  EXPECT_EQ(legacy.event_id, 1034u);
  EXPECT_EQ(legacy.time, absl::FromUnixSeconds(1632321141)) << "2021-09-22 07:32:21 -0700";
}

TEST(RealFixturesTest, CorrelatesTheRealWas5011AndApplicationErrorPair) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const std::string file =
      "was5011_and_apperror1000_w3wp_legacy-unnamed__blog_2017-06-18_diagnosing-process-crashes."
      "xml";
  const Event crash = ParseFixture(file, 0);
  EXPECT_EQ(crash.provider, Provider::kApplicationError);
  EXPECT_EQ(crash.faulting_app, "w3wp.exe");
  EXPECT_EQ(crash.exception_code, 0xC0000409u);
  const Event was = ParseFixture(file, 1);
  EXPECT_EQ(was.provider, Provider::kWas);
  EXPECT_EQ(was.event_id, 5011u);
  EXPECT_EQ(was.pid, crash.pid) << "0x709c = 28828: the same worker";
  EXPECT_EQ(was.app_pool, "[REDACTED]");
}

TEST(RealFixturesTest, ReadsNamedApplicationErrorAndWerLayouts) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const Event wer = ParseFixture("wer1001_APPCRASH_named-format_win11__ue4_bug_report.xml");
  EXPECT_EQ(wer.provider, Provider::kWindowsErrorReporting);
  EXPECT_EQ(wer.faulting_app, "UE4-ShooterGame");
  EXPECT_EQ(wer.faulting_module, "KERNELBASE.dll");
  EXPECT_EQ(wer.exception_code, 1u);
  const Event app = ParseFixture("apperror1000_named-format_win11__ROCm_issue_5871.xml");
  EXPECT_EQ(app.provider, Provider::kApplicationError);
  EXPECT_NE(app.pid, 0u);
  EXPECT_TRUE(app.exception_code.has_value());
}

TEST(RealFixturesTest, DecodesTheServiceKeyNameFromTheBinary) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  std::istringstream in(
      ReadFile(SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl")));
  EnvelopeParser parser;
  int decoded = 0;
  for (std::string line; std::getline(in, line);) {
    Event e;
    ASSERT_EQ(parser.Parse(line, &e), ParseError::kOk);
    if (e.event_id != kScmServiceStateChanged || e.provider != Provider::kServiceControlManager) {
      continue;
    }
    if (line.find("\"param1\":\"Software Protection\"") != std::string::npos) {
      EXPECT_EQ(e.service, "sppsvc") << "the key name, not the localized display name";
    }
    if (!e.service.empty()) ++decoded;
  }
  EXPECT_EQ(decoded, 386);
}

struct Hostile {
  std::string name;
  std::string input;
  ParseError expected;
};

void PrintTo(const Hostile& h, std::ostream* os) { *os << h.name; }

class HostileInputTest : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileInputTest, RejectsWithTheRightReason) {
  EnvelopeParser parser;
  Event e;
  EXPECT_EQ(ParseErrorName(parser.Parse(GetParam().input, &e)),
            ParseErrorName(GetParam().expected));
  // The parser stays usable after any rejection.
  EXPECT_EQ(parser.Parse(kWas5011, &e), ParseError::kOk);
  EXPECT_EQ(e.pid, 28828u);
}

std::string Truncated() { return std::string(kWas5011).substr(0, 120); }

INSTANTIATE_TEST_SUITE_P(
    Inputs, HostileInputTest,
    ::testing::Values(
        Hostile{"empty", "", ParseError::kTruncated},
        Hostile{"garbage", "this is not json", ParseError::kNotJson},
        Hostile{"binary", std::string("\x00\xff\xfe{\x01", 5), ParseError::kNotJson},
        Hostile{"array", "[1,2,3]", ParseError::kNotObject},
        Hostile{"number", "42", ParseError::kNotObject},
        Hostile{"truncated", Truncated(), ParseError::kTruncated},
        Hostile{"truncated_after_a_value", R"({"winlog":{"event_id":5011})",
                ParseError::kTruncated},
        Hostile{"no_winlog", R"({"@timestamp":"2024-01-01T00:00:00Z"})",
                ParseError::kUnknownEnvelope},
        Hostile{"winlog_not_object", R"({"winlog":"x"})", ParseError::kWrongType},
        Hostile{"no_event_id",
                R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"computer_name":"h"}})",
                ParseError::kNoEventId},
        Hostile{
            "event_id_text",
            R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"abc","computer_name":"h"}})",
            ParseError::kNoEventId},
        Hostile{
            "event_id_too_big",
            R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":99999999999,"computer_name":"h"}})",
            ParseError::kNoEventId},
        Hostile{"no_host", R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":1}})",
                ParseError::kNoHost},
        Hostile{"no_time", R"({"winlog":{"event_id":1,"computer_name":"h"}})",
                ParseError::kBadTime},
        Hostile{"bad_time",
                R"({"@timestamp":"yesterday","winlog":{"event_id":1,"computer_name":"h"}})",
                ParseError::kBadTime},
        // A float @timestamp is Fluent Bit's read time: ignored, so no event time is left.
        Hostile{"time_is_number",
                R"({"@timestamp":1700000000.5,"winlog":{"event_id":1,"computer_name":"h"}})",
                ParseError::kBadTime},
        Hostile{
            "record_id_text",
            R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":1,"computer_name":"h","record_id":"x1"}})",
            ParseError::kWrongType},
        Hostile{"bad_utf8",
                "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"winlog\":{\"event_id\":1,"
                "\"computer_name\":\"h\xff\xfe\"}}",
                ParseError::kBadUtf8},
        // Two objects on one line: the second would vanish unread.
        Hostile{"two_objects", std::string(kWas5011) + " " + std::string(kWas5011),
                ParseError::kTrailingData},
        Hostile{"object_then_value", std::string(kWas5011) + " 42", ParseError::kTrailingData},
        Hostile{"object_then_brace", std::string(kWas5011) + "}", ParseError::kTrailingData},
        // An inner document cut short is cut short, though the outer one closes.
        Hostile{"inner_truncated", R"({"message":"{\"EventID\":1,"})", ParseError::kTruncated},
        Hostile{"deep_nesting",
                "{\"winlog\":" + std::string(5000, '[') + std::string(5000, ']') + "}",
                ParseError::kWrongType}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return info.param.name; });

TEST(WinlogbeatEnvelopeTest, SurvivesAHugeStringValue) {
  std::string big = R"({"@timestamp":"2024-01-01T00:00:00Z","message":")" +
                    std::string(10 << 20, 'A') +
                    R"(","winlog":{"event_id":1,"computer_name":"h"}})";
  EnvelopeParser parser;
  Event e;
  EXPECT_EQ(parser.Parse(big, &e), ParseError::kOk);
  EXPECT_EQ(e.event_id, 1u);
}

}  // namespace
}  // namespace faultline

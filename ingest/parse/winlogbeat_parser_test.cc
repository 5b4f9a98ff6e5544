#include "ingest/parse/winlogbeat_parser.h"

#include <sstream>

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

TEST(WinlogbeatParserTest, ParsesEveryRealWinlogbeat72EventFromKafkaWithZeroRejects) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  std::istringstream in(
      ReadFile(SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl")));
  WinlogbeatParser parser;
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

TEST(WinlogbeatParserTest, ReadsTheFirstRealEventFieldByField) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  std::istringstream in(
      ReadFile(SharedPath("fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl")));
  std::string line;
  std::getline(in, line);
  WinlogbeatParser parser;
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

TEST(WinlogbeatParserTest, ReadsWinlogbeat8StringEventIdsFromTheRealGoldenFile) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  simdjson::dom::parser dom;
  simdjson::dom::array docs;
  ASSERT_EQ(dom.parse(ReadFile(SharedPath(
                          "fixtures/real/"
                          "elastic-beats__winlogbeat_powershell_collection_600.evtx.golden.json")))
                .get_array()
                .get(docs),
            simdjson::SUCCESS);
  WinlogbeatParser parser;
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

TEST(WinlogbeatParserTest, ReadsTheWorkerFieldsOfAWasEvent) {
  WinlogbeatParser parser;
  Event e;
  ASSERT_EQ(parser.Parse(kWas5011, &e), ParseError::kOk);
  EXPECT_EQ(e.provider, Provider::kWas);
  EXPECT_EQ(e.event_id, 5011u);
  EXPECT_EQ(e.app_pool, "Pool");
  EXPECT_EQ(e.pid, 28828u) << "the header's process.pid (0) must not hide the worker pid";
  EXPECT_EQ(e.level, 3);
}

TEST(WinlogbeatParserTest, ParsesTheBundledDemoIncident) {
  std::istringstream in(ReadFile(SourcePath("app/demo/exchange_owa_incident.jsonl")));
  WinlogbeatParser parser;
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

TEST(WinlogbeatParserTest, FallsBackToEventCodeAndHostName) {
  WinlogbeatParser parser;
  Event e;
  ASSERT_EQ(parser.Parse(R"({"@timestamp":"2024-01-01T00:00:00Z","event":{"code":"5002"},)"
                         R"("host":{"name":"web7"},"winlog":{"provider_name":"WAS",)"
                         R"("event_data":{"param1":"Pool"}}})",
                         &e),
            ParseError::kOk);
  EXPECT_EQ(e.event_id, 5002u);
  EXPECT_EQ(e.host, "web7");
  EXPECT_EQ(e.app_pool, "Pool");
}

struct Hostile {
  std::string name;
  std::string input;
  ParseError expected;
};

void PrintTo(const Hostile& h, std::ostream* os) { *os << h.name; }

class WinlogbeatHostileTest : public ::testing::TestWithParam<Hostile> {};

TEST_P(WinlogbeatHostileTest, RejectsWithTheRightReason) {
  WinlogbeatParser parser;
  Event e;
  EXPECT_EQ(ParseErrorName(parser.Parse(GetParam().input, &e)),
            ParseErrorName(GetParam().expected));
  // The parser stays usable after any rejection.
  EXPECT_EQ(parser.Parse(kWas5011, &e), ParseError::kOk);
  EXPECT_EQ(e.pid, 28828u);
}

std::string Truncated() { return std::string(kWas5011).substr(0, 120); }

INSTANTIATE_TEST_SUITE_P(
    Inputs, WinlogbeatHostileTest,
    ::testing::Values(
        Hostile{"empty", "", ParseError::kTruncated},
        Hostile{"garbage", "this is not json", ParseError::kNotJson},
        Hostile{"binary", std::string("\x00\xff\xfe{\x01", 5), ParseError::kNotJson},
        Hostile{"array", "[1,2,3]", ParseError::kNotObject},
        Hostile{"number", "42", ParseError::kNotObject},
        Hostile{"truncated", Truncated(), ParseError::kTruncated},
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
        Hostile{"time_is_number",
                R"({"@timestamp":1700000000.5,"winlog":{"event_id":1,"computer_name":"h"}})",
                ParseError::kWrongType},
        Hostile{
            "record_id_text",
            R"({"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":1,"computer_name":"h","record_id":"x1"}})",
            ParseError::kWrongType},
        Hostile{"bad_utf8",
                "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"winlog\":{\"event_id\":1,"
                "\"computer_name\":\"h\xff\xfe\"}}",
                ParseError::kNotJson},
        Hostile{"deep_nesting",
                "{\"winlog\":" + std::string(5000, '[') + std::string(5000, ']') + "}",
                ParseError::kWrongType}),
    [](const ::testing::TestParamInfo<Hostile>& info) { return info.param.name; });

TEST(WinlogbeatParserTest, SurvivesAHugeStringValue) {
  std::string big = R"({"@timestamp":"2024-01-01T00:00:00Z","message":")" +
                    std::string(10 << 20, 'A') +
                    R"(","winlog":{"event_id":1,"computer_name":"h"}})";
  WinlogbeatParser parser;
  Event e;
  EXPECT_EQ(parser.Parse(big, &e), ParseError::kOk);
  EXPECT_EQ(e.event_id, 1u);
}

}  // namespace
}  // namespace faultline

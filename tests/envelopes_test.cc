// The same incident in every forwarder envelope (tests/testdata/envelopes/, made by
// make_envelopes.py) gives identical normalized events and identical alerts.
#include <filesystem>
#include <fstream>

#include "app/testing/test_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/parse/envelope_parser.h"

namespace faultline {
namespace {

const std::filesystem::path kDir =
    std::filesystem::path(FAULTLINE_SOURCE_DIR) / "tests" / "testdata" / "envelopes";

std::vector<std::string> Lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

EnvelopeOptions OptionsFor(const std::string& name) {
  EnvelopeOptions options;
  // The NXLog CE rendering holds Berlin local times without a zone, as CE writes them.
  if (name == "nxlog_ce") {
    EXPECT_TRUE(absl::LoadTimeZone("Europe/Berlin", &options.local_time_zone));
  }
  return options;
}

// What detectors may depend on: everything but the provider's spelling (WAS vs
// Microsoft-Windows-WAS) and the origin.
std::string Normalized(const Event& e) {
  std::ostringstream s;
  s << absl::FormatTime(e.time) << "|" << e.host << "|" << static_cast<int>(e.provider) << "|"
    << e.channel << "|" << e.event_id << "|" << int{e.level} << "|" << e.record_id << "|"
    << e.app_pool << "|" << e.pid << "|" << e.exit_code.value_or(0) << "|"
    << e.exception_code.value_or(0) << "|" << e.faulting_app << "|" << e.faulting_module;
  return s.str();
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(EnvelopesTest, EveryEnvelopeGivesTheSameNormalizedEvents) {
  const std::vector<std::string> baseline_lines = Lines(kDir / "winlogbeat8.jsonl");
  ASSERT_EQ(baseline_lines.size(), 7u);
  std::vector<std::string> baseline;
  EnvelopeParser wb;
  for (const std::string& line : baseline_lines) {
    Event e;
    ASSERT_EQ(wb.Parse(line, &e), ParseError::kOk);
    baseline.push_back(Normalized(e));
  }
  const std::vector<std::string> names = Names();
  EXPECT_EQ(names.size(), 12u);
  for (const std::string& name : names) {
    EnvelopeParser parser(OptionsFor(name));
    const std::vector<std::string> lines = Lines(kDir / (name + ".jsonl"));
    ASSERT_EQ(lines.size(), baseline.size()) << name;
    for (size_t i = 0; i < lines.size(); ++i) {
      Event e;
      ASSERT_EQ(ParseErrorName(parser.Parse(lines[i], &e)), "ok") << name << " line " << i + 1;
      EXPECT_EQ(Normalized(e), baseline[i]) << name << " line " << i + 1;
    }
  }
}

TEST(EnvelopesTest, EveryEnvelopeGivesTheSameAlerts) {
  std::vector<std::string> expected;
  for (const std::string& name : Names()) {
    TestPipeline t = MakeTestPipeline(OptionsFor(name));
    Pipeline& pipeline = *t.pipeline;
    FakeSink* fake = t.sink;
    for (const std::string& line : Lines(kDir / (name + ".jsonl"))) {
      pipeline.OnMessage(Message{.payload = line});
    }
    pipeline.Drain();
    std::vector<std::string> alerts;
    for (Alert a : fake->alerts()) {
      for (Evidence& e : *a.mutable_evidence()) e.clear_provider();  // spelled per forwarder
      alerts.push_back(AlertToJson(a));
    }
    ASSERT_EQ(alerts.size(), 3u) << name;
    if (expected.empty()) expected = alerts;
    EXPECT_EQ(alerts, expected) << name;
  }
  EXPECT_THAT(expected[2], ::testing::HasSubstr("\"exception_code\":\"0xC00000FD\""));
}

}  // namespace
}  // namespace faultline

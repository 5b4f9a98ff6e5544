#include "app/pipeline.h"

#include <fstream>
#include <sstream>

#include "app/builtin.h"
#include "app/commands.h"
#include "app/testing/test_pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/parse/envelope_parser.h"
#include "sinks/testing/fake_sink.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> IncidentLines() {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestPipeline t = MakeTestPipeline({}, /*max_message_bytes=*/64 * 1024);
    sink_ = t.sink;
    pipeline_ = std::move(t.pipeline);
  }
  void Send(std::string_view payload, int64_t offset = 0) {
    pipeline_->OnMessage(Message{.payload = payload, .origin = {.partition = 0, .offset = offset}});
  }
  std::vector<std::string> Rules() const {
    std::vector<std::string> out;
    for (const Alert& a : sink_->alerts) out.push_back(a.rule());
    return out;
  }

  FakeSink* sink_ = nullptr;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, DetectsTheSeedIncidentEndToEnd) {
  for (const std::string& line : IncidentLines()) Send(line);
  EXPECT_THAT(Rules(), ElementsAre("iis_worker_failure_burst", "iis_rapid_fail_imminent",
                                   "iis_app_pool_disabled"));
  EXPECT_EQ(pipeline_->stats().parsed.load(), 7u);
  EXPECT_EQ(pipeline_->stats().alerts.load(), 3u);
}

TEST_F(PipelineTest, CountsAndSkipsMalformedMessagesAndTheStreamGoesOn) {
  const std::vector<std::string> lines = IncidentLines();
  int64_t offset = 0;
  for (const std::string& line : lines) {
    Send("{\"truncated\":", offset++);
    Send(std::string("\xff\xfe\x00garbage", 10), offset++);
    Send(std::string(100 * 1024, 'x'), offset++);  // over the 64 KiB limit
    Send(line, offset++);
  }
  EXPECT_THAT(Rules(), ElementsAre("iis_worker_failure_burst", "iis_rapid_fail_imminent",
                                   "iis_app_pool_disabled"));
  const RunStats& s = pipeline_->stats();
  EXPECT_EQ(s.messages.load(), 28u);
  EXPECT_EQ(s.parsed.load(), 7u);
  EXPECT_EQ(s.rejected(), 21u);
  EXPECT_EQ(s.rejected_by_reason[static_cast<int>(ParseError::kTruncated)].load(), 7u);
  EXPECT_EQ(s.rejected_by_reason[static_cast<int>(ParseError::kNotJson)].load(), 7u);
  EXPECT_EQ(s.rejected_by_reason[static_cast<int>(ParseError::kTooLarge)].load(), 7u);
}

TEST_F(PipelineTest, DropsRedeliveredRecordsSoFailuresCountOnce) {
  const std::vector<std::string> lines = IncidentLines();
  // An at-least-once forwarder resends the first four events after a reconnect.
  for (size_t i = 0; i < 4; ++i) Send(lines[i]);
  for (const std::string& line : lines) Send(line);
  EXPECT_EQ(pipeline_->stats().duplicates.load(), 4u);
  ASSERT_EQ(sink_->alerts.size(), 3u);
  EXPECT_EQ(sink_->alerts[2].count(), 5u) << "five failures, not nine";
}

TEST_F(PipelineTest, CountsSinkFailuresWithoutStopping) {
  sink_->fail = true;
  for (const std::string& line : IncidentLines()) Send(line);
  EXPECT_EQ(pipeline_->stats().alerts.load(), 3u);
  EXPECT_EQ(pipeline_->stats().sink_failures.load(), 3u);
}

TEST_F(PipelineTest, SummarisesAsOneJsonLine) {
  Send("[]");
  for (const std::string& line : IncidentLines()) Send(line);
  EXPECT_EQ(pipeline_->SummaryJson(),
            "{\"events\":8,\"parsed\":7,\"rejected\":1,\"rejected_by_reason\":{\"not_object\":1},"
            "\"duplicates\":0,\"too_late\":0,\"alerts\":3,\"alerts_by_rule\":{"
            "\"iis_app_pool_disabled\":1,\"iis_rapid_fail_imminent\":1,"
            "\"iis_worker_failure_burst\":1},\"state_keys\":7,\"state_evictions\":0,"
            "\"sink_failures\":0}");
}

TEST(BuildPipelineTest, ReportsEveryBadSinkWithItsIndex) {
  Config config;
  auto p = BuildPipeline(
      config,
      {SinkSpec{.type = "pager"}, SinkSpec{.type = "stdout", .options = {{"format", "xml"}}}}, {});
  ASSERT_FALSE(p.ok());
  const std::string m(p.status().message());
  EXPECT_THAT(m, HasSubstr("sinks[0]: unknown sink type \"pager\"; known: stdout"));
  EXPECT_THAT(m, HasSubstr("sinks[1]: sink stdout: format must be json or text"));
}

}  // namespace
}  // namespace faultline

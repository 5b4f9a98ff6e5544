#include "app/pipeline.h"

#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "app/builtin.h"
#include "app/config.h"
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

// Dead letters kept in memory; delivered when the test says so.
class FakeDeadLetters final : public DeadLetters {
 public:
  void Publish(const Message& m, ParseError reason,
               const std::shared_ptr<DeliveryTicket>& ticket) override {
    letters.emplace_back(std::string(m.payload), reason);
    ticket->Expect(1);
    tickets.push_back(ticket);
  }
  bool Saturated() const override { return false; }
  void Poll() override {}
  absl::Status Flush(absl::Duration) override {
    for (auto& t : tickets) t->Done();
    tickets.clear();
    return absl::OkStatus();
  }
  const DeadLetterStats& stats() const override { return stats_; }

  std::vector<std::pair<std::string, ParseError>> letters;
  std::vector<std::shared_ptr<DeliveryTicket>> tickets;

 private:
  DeadLetterStats stats_;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(); }
  void Make(std::unique_ptr<DeadLetters> dead_letters = nullptr, QueueOptions queue = {}) {
    TestPipeline t = MakeTestPipeline({}, /*max_message_bytes=*/64 * 1024, std::move(dead_letters),
                                      std::move(queue));
    sink_ = t.sink;
    pipeline_ = std::move(t.pipeline);
  }
  std::shared_ptr<const DeliveryTicket> Send(std::string_view payload, int64_t offset = 0) {
    return pipeline_->OnMessage(
        Message{.payload = payload, .origin = {.partition = 0, .offset = offset}});
  }
  std::vector<std::string> Rules() const {
    std::vector<std::string> out;
    for (const Alert& a : sink_->alerts()) out.push_back(a.rule());
    return out;
  }

  FakeSink* sink_ = nullptr;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, DetectsTheSeedIncidentEndToEnd) {
  for (const std::string& line : IncidentLines()) Send(line);
  pipeline_->Drain();
  EXPECT_THAT(Rules(), ElementsAre("iis_worker_failure_burst", "iis_rapid_fail_imminent",
                                   "iis_app_pool_disabled"));
  EXPECT_EQ(pipeline_->stats().parsed.load(), 7u);
  EXPECT_EQ(pipeline_->stats().alerts.load(), 3u);
}

TEST_F(PipelineTest, ReturnsATicketOnlyForMessagesThatRaisedAnAlertDoneOnceDelivered) {
  sink_->set_status(absl::UnavailableError("receiver down"));
  std::vector<std::shared_ptr<const DeliveryTicket>> tickets;
  for (const std::string& line : IncidentLines()) tickets.push_back(Send(line));
  // The third failure raises the burst alert, the fourth imminent, WAS 5002 the disabled one.
  std::vector<size_t> with_ticket;
  for (size_t i = 0; i < tickets.size(); ++i) {
    if (tickets[i] != nullptr) with_ticket.push_back(i);
  }
  ASSERT_EQ(with_ticket.size(), 3u);
  for (size_t i : with_ticket) EXPECT_FALSE(tickets[i]->done()) << "message " << i;
  sink_->set_status(absl::OkStatus());
  pipeline_->Drain();
  for (size_t i : with_ticket) EXPECT_TRUE(tickets[i]->done()) << "message " << i;
  EXPECT_EQ(sink_->alerts().size(), 3u);
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
  pipeline_->Drain();
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

TEST_F(PipelineTest, HoldsARejectedMessageUntilItsDeadLetterIsOut) {
  auto letters = std::make_unique<FakeDeadLetters>();
  FakeDeadLetters* dlq = letters.get();
  Make(std::move(letters));
  std::shared_ptr<const DeliveryTicket> ticket = Send("not json", 3);
  ASSERT_NE(ticket, nullptr);
  EXPECT_FALSE(ticket->done());
  ASSERT_EQ(dlq->letters.size(), 1u);
  EXPECT_EQ(dlq->letters[0].second, ParseError::kNotJson);
  pipeline_->Drain();  // flushes the dead letters
  EXPECT_TRUE(ticket->done());
}

TEST_F(PipelineTest, DropsRedeliveredRecordsSoFailuresCountOnce) {
  const std::vector<std::string> lines = IncidentLines();
  // An at-least-once forwarder resends the first four events after a reconnect.
  for (size_t i = 0; i < 4; ++i) Send(lines[i]);
  for (const std::string& line : lines) Send(line);
  pipeline_->Drain();
  EXPECT_EQ(pipeline_->engine_stats().duplicates.load(), 4u);
  const std::vector<Alert> alerts = sink_->alerts();
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[2].count(), 5u) << "five failures, not nine";
}

TEST_F(PipelineTest, CountsAlertsASinkRefusesForGoodWithoutStopping) {
  sink_->set_status(absl::FailedPreconditionError("HTTP 400"));
  for (const std::string& line : IncidentLines()) Send(line);
  pipeline_->Drain();
  EXPECT_EQ(pipeline_->stats().alerts.load(), 3u);
  EXPECT_EQ(pipeline_->sink_failures(), 3u);
}

TEST_F(PipelineTest, IsSaturatedWhileASinkQueueIsFull) {
  Make(nullptr, QueueOptions{.capacity = 2});
  sink_->set_status(absl::UnavailableError("receiver down"));
  for (const std::string& line : IncidentLines()) Send(line);
  EXPECT_TRUE(pipeline_->Saturated()) << "3 alerts in a queue of 2";
  sink_->set_status(absl::OkStatus());
  pipeline_->Drain();
  EXPECT_FALSE(pipeline_->Saturated());
  EXPECT_EQ(sink_->alerts().size(), 3u) << "back-pressure loses nothing";
}

// Each line twice, in any order, as a forwarder redelivering out of order would send them: still
// one incident, the warning before the outage, each record counted once.
TEST(PipelineOrderTest, TheSeedIncidentDuplicatedAndShuffledStillWarnsBeforeTheDisable) {
  const std::vector<std::string> once = IncidentLines();
  ASSERT_EQ(once.size(), 7u);
  std::vector<std::string> lines = once;
  lines.insert(lines.end(), once.begin(), once.end());
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    std::shuffle(lines.begin(), lines.end(), rng);
    TestPipeline t = MakeTestPipeline();
    for (const std::string& line : lines) t.pipeline->OnMessage(Message{.payload = line});
    t.pipeline->Drain();
    std::vector<std::string> log;
    for (const Alert& a : t.sink->alerts()) log.push_back(a.rule() + " " + a.status());
    ASSERT_THAT(log, ElementsAre("iis_worker_failure_burst firing",
                                 "iis_rapid_fail_imminent firing", "iis_app_pool_disabled firing"))
        << "seed " << seed;
    EXPECT_GE(t.sink->alerts()[2].count(), 4u) << "seed " << seed;
    EXPECT_EQ(t.pipeline->engine_stats().duplicates.load(), 7u) << "seed " << seed;
    EXPECT_EQ(t.pipeline->engine_stats().too_late.load(), 0u) << "seed " << seed;
    EXPECT_EQ(t.pipeline->stats().rejected(), 0u) << "seed " << seed;
  }
}

// NXLog through Logstash: no EventTime, only TimeCreated (with a zone, or local) and Logstash's
// @timestamp, as in ../shared/fixtures/real/otrf__nxlog-via-logstash_no_eventtime.jsonl.
TEST(PipelineOrderTest, ACrashLoopFromNxlogThroughLogstashAlerts) {
  TestPipeline t = MakeTestPipeline();
  const char* kTimes[] = {"2020-10-21T08:45:35.994Z", "2020-10-21 08:48:35.994",
                          "2020-10-21T08:51:35.994Z"};
  for (int i = 0; i < 3; ++i) {
    const std::string line = absl::StrCat(
        R"({"@timestamp":"2020-10-21T08:59:00.000Z","TimeCreated":")", kTimes[i],
        R"(","param1":"World Wide Web Publishing Service","param2":")", i + 1,
        R"(","Level":"2","Channel":"System","Task":"0","SourceName":"Service Control Manager",)"
        R"("Hostname":"WORKSTATION5","EventID":7031,"Keywords":"0x8080000000000000",)"
        R"("Message":"The World Wide Web Publishing Service service terminated unexpectedly.  )"
        R"(It has done this )",
        i + 1, R"( time(s)."})");
    t.pipeline->OnMessage(Message{.payload = line});
  }
  t.pipeline->Drain();
  ASSERT_EQ(t.pipeline->stats().rejected(), 0u);
  ASSERT_EQ(t.sink->alerts().size(), 1u);
  const Alert a = t.sink->alerts()[0];
  EXPECT_EQ(a.rule(), "service_crash_loop");
  EXPECT_EQ(a.host(), "WORKSTATION5");
  EXPECT_EQ(a.service(), "World Wide Web Publishing Service");
  EXPECT_EQ(FromProtoTime(a.first_event_time()), absl::FromUnixMillis(1603269935994));
}

TEST_F(PipelineTest, SummarisesAsOneJsonLine) {
  Send("[]");
  for (const std::string& line : IncidentLines()) Send(line);
  pipeline_->Drain();
  // The wall time the events took comes last; the rest is exact.
  const std::string summary = pipeline_->SummaryJson();
  const size_t seconds_at = summary.rfind(",\"seconds\":");
  ASSERT_NE(seconds_at, std::string::npos) << summary;
  double seconds = -1;
  EXPECT_TRUE(absl::SimpleAtod(summary.substr(seconds_at + 11, summary.size() - seconds_at - 12),
                               &seconds));
  EXPECT_GE(seconds, 0);
  EXPECT_LT(seconds, 60);
  EXPECT_EQ(summary.substr(0, seconds_at) + "}",
            "{\"events\":8,\"parsed\":7,\"rejected\":1,\"rejected_by_reason\":{\"not_object\":1},"
            "\"duplicates\":0,\"too_late\":0,\"too_old\":0,\"clock_ahead\":0,\"alerts\":3,"
            "\"alerts_by_rule\":{\"iis_app_pool_disabled\":1,\"iis_rapid_fail_imminent\":1,"
            "\"iis_worker_failure_burst\":1},\"hosts\":1,\"host_evictions\":0,\"state_keys\":8,"
            "\"state_evictions\":0,"
            "\"sink_failures\":0,\"sinks\":{\"fake\":{\"delivered\":3,\"failed\":0,"
            "\"retried\":0,\"dropped\":0,\"queued\":0}}}");
}

}  // namespace
}  // namespace faultline

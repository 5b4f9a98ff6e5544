#include "app/pipeline.h"

#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "app/builtin.h"
#include "app/config.h"
#include "app/testing/test_pipeline.h"
#include "core/testing/fake_clock.h"
#include "core/windows_events.h"
#include "detect/pool_forward.h"
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

// Records kept in memory; delivered when the test says so.
class FakeRecords final : public RecordOutput {
 public:
  void Publish(KafkaRecord record, const std::shared_ptr<DeliveryTicket>& ticket) override {
    records.push_back(std::move(record));
    if (ticket == nullptr) return;  // a heartbeat: delivered at once
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
  size_t pending() const override { return tickets.size(); }
  const std::map<int32_t, int64_t>& delivered_offsets() const override { return delivered; }
  int Partitions(absl::Time) override { return partitions; }
  absl::StatusOr<std::vector<int64_t>> EndOffsets(const std::string& topic,
                                                  const std::vector<int32_t>& asked,
                                                  absl::Duration) override {
    if (!broker_up) return absl::UnavailableError("broker down");
    std::vector<int64_t> out;
    for (int32_t p : asked) out.push_back(ends[{topic, p}]);
    return out;
  }
  const RecordOutputStats& stats() const override { return stats_; }

  int partitions = 2;
  std::map<std::pair<std::string, int32_t>, int64_t> ends;  // EndOffsets' answers
  bool broker_up = true;
  std::map<int32_t, int64_t> delivered;
  std::vector<KafkaRecord> records;
  std::vector<std::shared_ptr<DeliveryTicket>> tickets;

 private:
  RecordOutputStats stats_;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(); }
  void Make(std::unique_ptr<RecordOutput> dead_letters = nullptr, QueueOptions queue = {}) {
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
  auto letters = std::make_unique<FakeRecords>();
  FakeRecords* dlq = letters.get();
  Make(std::move(letters));
  std::shared_ptr<const DeliveryTicket> ticket = Send("not json", 3);
  ASSERT_NE(ticket, nullptr);
  EXPECT_FALSE(ticket->done());
  ASSERT_EQ(dlq->records.size(), 1u);
  EXPECT_EQ(dlq->records[0].value, "not json");
  EXPECT_EQ(dlq->records[0].headers[0],
            (std::pair<std::string, std::string>("faultline.reason", "not_json")));
  pipeline_->Drain();  // flushes the dead letters
  EXPECT_TRUE(ticket->done());
}

TEST_F(PipelineTest, TheRekeyRoleForwardsEveryParsedEventKeyedByHostInsteadOfDetecting) {
  auto letters = std::make_unique<FakeRecords>();
  auto events = std::make_unique<FakeRecords>();
  FakeRecords* dlq = letters.get();
  FakeRecords* out = events.get();
  Make(std::move(letters));
  pipeline_->ForwardEventsTo(std::move(events));
  const std::vector<std::string> lines = IncidentLines();
  const absl::Time appended = absl::FromUnixSeconds(1'700'000'000);
  std::vector<std::shared_ptr<const DeliveryTicket>> tickets;
  for (size_t i = 0; i < lines.size(); ++i) {
    tickets.push_back(
        pipeline_->OnMessage(Message{.payload = lines[i],
                                     .origin = {.partition = 2,
                                                .offset = static_cast<int64_t>(i),
                                                .broker_time = appended + absl::Seconds(i)}}));
  }
  tickets.push_back(Send("not json", 99));
  ASSERT_EQ(out->records.size(), lines.size());
  ASSERT_EQ(dlq->records.size(), 1u) << "rejects are dead-lettered as in the detect role";
  EnvelopeParser json;
  EventCodec codec;
  for (size_t i = 0; i < lines.size(); ++i) {
    Event original, rekeyed;
    ASSERT_EQ(json.Parse(lines[i], &original), ParseError::kOk);
    ASSERT_TRUE(codec.Decode(out->records[i].value, &rekeyed));
    EXPECT_EQ(out->records[i].key, original.host);
    EXPECT_EQ(rekeyed.host, original.host);
    EXPECT_EQ(rekeyed.event_id, original.event_id);
    EXPECT_EQ(rekeyed.time, original.time);
    EXPECT_EQ(rekeyed.app_pool, original.app_pool);
    EXPECT_EQ(out->records[i].timestamp, appended + absl::Seconds(i)) << "the arrival time stays";
  }
  // Every message waits for its record: nothing is committed that is not on the internal topic.
  for (const auto& t : tickets) {
    ASSERT_NE(t, nullptr);
    EXPECT_FALSE(t->done());
  }
  pipeline_->Drain();
  for (const auto& t : tickets) EXPECT_TRUE(t->done());
  EXPECT_TRUE(sink_->alerts().empty()) << "the rekey role detects nothing";
  EXPECT_EQ(pipeline_->stats().alerts.load(), 0u);
}

// ingest.pool_topic, wired as the Service wires it: the fleet detector runs in a second engine on
// the pool topic's records; the input's engine forwards it their events keyed by pool.
TEST(PipelinePoolTopicTest, ForwardsFailuresKeyedByPoolAndDetectsTheFleetOnTheirRecords) {
  DetectorRegistry registry;
  RegisterBuiltinDetectors(registry);
  std::vector<std::unique_ptr<Detector>> by_host, by_pool;
  std::vector<std::unique_ptr<Detector>> all = registry.CreateAll({}).value();
  for (auto& d : all) {
    (d->state_key() == StateKey::kAppPool ? by_pool : by_host).push_back(std::move(d));
  }
  ASSERT_EQ(by_pool.size(), 1u);
  auto forward_owned = std::make_unique<PoolForward>(by_pool);
  PoolForward* forward = forward_owned.get();
  by_host.push_back(std::move(forward_owned));
  auto sink_owned = std::make_unique<FakeSink>();
  FakeSink* sink = sink_owned.get();
  std::vector<Dispatcher::Route> routes;
  routes.push_back(
      {.queue = QueueOptions{.name = "fake"}, .type = "fake", .sink = std::move(sink_owned)});
  Pipeline pipeline(std::make_unique<EnvelopeParser>(EnvelopeOptions{}),
                    std::make_unique<Engine>(std::move(by_host)),
                    Dispatcher::Create(std::move(routes), "", RealClock::Get()).value(), 1 << 20,
                    nullptr, RealClock::Get());
  auto out_owned = std::make_unique<FakeRecords>();
  FakeRecords* out = out_owned.get();
  pipeline.SplitPools(
      "pools", "events",
      std::make_unique<Engine>(std::move(by_pool), EngineOptions{.judge_hosts = false}),
      std::move(out_owned));
  forward->Connect([&pipeline](const Event& e) { pipeline.ForwardToPool(e); });
  ASSERT_TRUE(pipeline.Start().ok());
  pipeline.OnPartitionsAssigned({{"events", 0}, {"events", 1}, {"events", 2}, {"pools", 0}});

  // The incident of one Exchange server, on three servers of three partitions.
  const absl::Time appended = absl::FromUnixSeconds(1'773'134'000);
  std::vector<std::shared_ptr<const DeliveryTicket>> tickets;
  int64_t offset = 0;
  for (int host = 0; host < 3; ++host) {
    for (const std::string& line : IncidentLines()) {
      const std::string moved =
          absl::StrReplaceAll(line, {{"EXCH01", absl::StrCat("EXCH0", host + 1)}});
      tickets.push_back(
          pipeline.OnMessage(Message{.payload = moved,
                                     .topic = "events",
                                     .origin = {.partition = host,
                                                .offset = offset++,
                                                .broker_time = appended + absl::Seconds(offset)}}));
    }
  }
  // Its WAS failures went to the pool topic, keyed by the pool lowercased, each holding its
  // message's commit until it is out; the input's engine raised no fleet incident itself.
  ASSERT_FALSE(out->records.empty());
  EventCodec codec;
  std::vector<KafkaRecord> forwarded = out->records;
  for (const KafkaRecord& r : forwarded) {
    Event e;
    ASSERT_TRUE(codec.Decode(r.value, &e));
    EXPECT_EQ(r.key, "msexchangeowaapppool");
    EXPECT_GE(e.origin.partition, 0) << "it says which input partition it came from";
  }
  EXPECT_EQ(pipeline.stats().pool_forwarded.load(), forwarded.size());
  size_t waiting = 0;
  for (const auto& t : tickets) waiting += t != nullptr && !t->done();
  EXPECT_GE(waiting, forwarded.size());
  for (const std::string& rule : [&] {
         std::vector<std::string> r;
         for (const Alert& a : sink->alerts()) r.push_back(a.rule());
         return r;
       }()) {
    EXPECT_NE(rule, "fleet_app_pool_failures");
  }

  // Read back from the pool topic: one fleet incident.
  const size_t before = pipeline.stats().alerts.load();
  for (size_t i = 0; i < forwarded.size(); ++i) {
    pipeline.OnMessage(Message{.payload = forwarded[i].value,
                               .key = forwarded[i].key,
                               .topic = "pools",
                               .origin = {.partition = 0, .offset = static_cast<int64_t>(i)}});
  }
  EXPECT_EQ(pipeline.stats().alerts.load(), before + 1);
  EXPECT_EQ(pipeline.stats().pool_records.load(), forwarded.size());
  // The fleet incident holds the pool topic partition's restore point, not an input's.
  // (Its first failure: the third server's WAS 5009, 09:14:03.472, less max_clock_skew.)
  EXPECT_EQ(pipeline.RestoreFrom({"pools", 0}, 1),
            absl::ToUnixMillis(absl::FromUnixMillis(1'773'134'043'472) - absl::Minutes(10)));
  EXPECT_EQ(pipeline.RestoreFrom({"pools", 1}, 0), -1);
  // A record that is not an event is counted apart, not parsed as the input's.
  pipeline.OnMessage(
      Message{.payload = "junk", .topic = "pools", .origin = {.partition = 0, .offset = 99}});
  EXPECT_EQ(pipeline.stats().pool_rejected.load(), 1u);
  EXPECT_EQ(pipeline.stats().rejected(), 0u);

  // Heartbeats: each input partition's clock, to every partition of the pool topic.
  out->records.clear();
  pipeline.Tick();
  EXPECT_EQ(out->records.size(), 3u * 2u) << "3 input partitions x 2 pool partitions";
  for (const KafkaRecord& r : out->records) {
    Event e;
    int64_t end = 0;
    ASSERT_TRUE(codec.Decode(r.value, &e, &end));
    EXPECT_TRUE(e.host.empty());
    EXPECT_EQ(end, -1) << "not read to its end";
    EXPECT_GE(r.partition, 0);
  }
  out->records.clear();
  pipeline.Tick();
  EXPECT_TRUE(out->records.empty()) << "a clock that did not move is not sent again";

  pipeline.Drain();
  EXPECT_THAT(sink->alerts().back().rule(), "fleet_app_pool_failures");
  for (const auto& t : tickets) EXPECT_TRUE(t == nullptr || t->done());
}

// The pool engine's clock and an input partition another member read to its end. A backfill is
// appended to every input partition at once; the member reading partition 0 reads it first and
// its heartbeat, hours ahead, reaches the pool topic before the member of partition 1 has said
// that its partition has more. The end of partition 1 holds the clock back while the broker says
// records were appended after it: its owner's failure then joins the incident instead of coming
// after the incident was over. An end the broker confirms lets the clock pass.
class PoolTopicEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DetectorRegistry registry;
    RegisterBuiltinDetectors(registry);
    std::vector<std::unique_ptr<Detector>> by_pool;
    std::vector<std::unique_ptr<Detector>> all = registry.CreateAll({}).value();
    for (auto& d : all) {
      if (d->state_key() == StateKey::kAppPool) by_pool.push_back(std::move(d));
    }
    auto sink = std::make_unique<FakeSink>();
    sink_ = sink.get();
    std::vector<Dispatcher::Route> routes;
    routes.push_back(
        {.queue = QueueOptions{.name = "fake"}, .type = "fake", .sink = std::move(sink)});
    pipeline_ = std::make_unique<Pipeline>(
        std::make_unique<EnvelopeParser>(EnvelopeOptions{}),
        std::make_unique<Engine>(std::vector<std::unique_ptr<Detector>>{}),
        Dispatcher::Create(std::move(routes), "", RealClock::Get()).value(), 1 << 20, nullptr,
        clock_);
    auto out = std::make_unique<FakeRecords>();
    out_ = out.get();
    pipeline_->SplitPools(
        "pools", "events",
        std::make_unique<Engine>(std::move(by_pool), EngineOptions{.judge_hosts = false}),
        std::move(out));
    ASSERT_TRUE(pipeline_->Start().ok());
    pipeline_->OnPartitionsAssigned({{"pools", 0}});
  }

  // A record of pool topic partition 0, as another member wrote it.
  void Read(const std::string& value) {
    pipeline_->OnMessage(Message{.payload = value,
                                 .key = "shoppool",
                                 .topic = "pools",
                                 .origin = {.partition = 0, .offset = next_++}});
    out_->ends[{"pools", 0}] = next_;
  }
  void Failure(std::string host, int32_t input, absl::Duration at) {
    Event e;
    e.time = kT0 + at;
    e.host = std::move(host);
    e.provider_name = "Microsoft-Windows-WAS";
    e.provider = Provider::kWas;
    e.event_id = kWasWorkerTerminated;
    e.app_pool = "ShopPool";
    e.origin = {.partition = input, .broker_time = kT0 + at};
    std::string value;
    codec_.EncodeWithOrigin(e, &value);
    Read(value);
  }
  void Heartbeat(int32_t input, absl::Duration at, int64_t end = -1) {
    std::string value;
    codec_.EncodeHeartbeat(input, kT0 + at, end, &value);
    Read(value);
  }
  void Tick() {
    clock_.Advance(absl::Seconds(1));
    pipeline_->Tick();
  }
  std::vector<Alert> Fleet() {
    std::vector<Alert> out;
    for (const Alert& a : sink_->alerts()) {
      if (a.rule() == "fleet_app_pool_failures") out.push_back(a);
    }
    return out;
  }

  // Three hosts of input partition 0 fail (an incident); partition 1, read to its end at offset
  // 100 by its member, is checked; then partition 0's member reads a backfill hours ahead.
  void IncidentThenBackfill() {
    Failure("WEB1", 0, absl::Seconds(0));
    Failure("WEB2", 0, absl::Seconds(10));
    Heartbeat(1, absl::Seconds(5), /*end=*/100);
    out_->ends[{"events", 1}] = 100;
    Tick();  // the broker confirms the end of partition 1: it lets the clock pass
    Failure("WEB3", 0, absl::Seconds(20));
    Heartbeat(0, absl::Hours(2));
  }

  static constexpr absl::Time kT0 = absl::FromUnixSeconds(1'773'134'000);
  FakeClock clock_;
  EventCodec codec_;
  FakeSink* sink_ = nullptr;
  FakeRecords* out_ = nullptr;
  std::unique_ptr<Pipeline> pipeline_;
  int64_t next_ = 0;
};

TEST_F(PoolTopicEndTest, AnEndTheBrokerConfirmsLetsThePoolsClockPass) {
  IncidentThenBackfill();  // (partition 1 stays at 100: nothing was appended to it)
  Tick();
  pipeline_->Drain();
  std::vector<Alert> fleet = Fleet();
  ASSERT_EQ(fleet.size(), 2u);
  EXPECT_EQ(fleet[0].status(), "firing");
  EXPECT_EQ(fleet[1].status(), "resolved") << "partition 1 is idle: it holds nothing back";
  EXPECT_EQ(fleet[1].count(), 3u);
}

TEST_F(PoolTopicEndTest, AnEndThePartitionGrewPastHoldsThePoolsClockUntilItsMemberReports) {
  IncidentThenBackfill();
  out_->ends[{"events", 1}] = 150;  // the backfill reached partition 1 too, not yet read
  Tick();
  Tick();
  ASSERT_EQ(pipeline_->stats().alerts.load(), 1u)
      << "still open: partition 1 has records its member has not read";
  // Its member reads them, a failure of the incident's time among them, to the new end.
  Failure("WEB4", 1, absl::Seconds(30));
  Heartbeat(1, absl::Hours(2), /*end=*/150);
  Tick();
  pipeline_->Drain();
  std::vector<Alert> fleet = Fleet();
  ASSERT_GE(fleet.size(), 2u);
  EXPECT_EQ(fleet.back().status(), "resolved");
  EXPECT_EQ(fleet.back().count(), 4u) << "WEB4 joined the incident";
}

TEST_F(PoolTopicEndTest, ANewOwnersFirstHeartbeatHoldsALaneLetPassAgain) {
  Failure("WEB1", 0, absl::Seconds(0));
  Failure("WEB2", 0, absl::Seconds(10));
  Failure("WEB3", 0, absl::Seconds(20));
  Heartbeat(1, absl::Seconds(5), /*end=*/100);
  out_->ends[{"events", 1}] = 100;
  // The check sees records written to the pool topic that this member has not read yet: they
  // were written before it, so they do not hold partition 1's lane again by themselves.
  out_->ends[{"pools", 0}] = next_ + 2;
  clock_.Advance(absl::Seconds(1));
  pipeline_->Tick();
  // Partition 1 changed hands: its new owner says so before it has read anything (no clock, no
  // end); then partition 0's member is hours ahead.
  std::string value;
  codec_.EncodeHeartbeat(1, absl::InfinitePast(), -1, &value);
  pipeline_->OnMessage(
      Message{.payload = value, .topic = "pools", .origin = {.partition = 0, .offset = next_++}});
  codec_.EncodeHeartbeat(0, kT0 + absl::Hours(2), -1, &value);
  pipeline_->OnMessage(
      Message{.payload = value, .topic = "pools", .origin = {.partition = 0, .offset = next_++}});
  EXPECT_EQ(pipeline_->stats().alerts.load(), 1u)
      << "not resolved: partition 1's new owner has not said how far it has read";
}

TEST_F(PoolTopicEndTest, WithoutTheBrokersWordAnEndHoldsTheClock) {
  out_->broker_up = false;
  Failure("WEB1", 0, absl::Seconds(0));
  Failure("WEB2", 0, absl::Seconds(10));
  Failure("WEB3", 0, absl::Seconds(20));
  Heartbeat(1, absl::Seconds(5), /*end=*/100);
  Heartbeat(0, absl::Hours(2));
  Tick();
  Tick();
  EXPECT_EQ(pipeline_->stats().end_check_failures.load(), 2u);
  ASSERT_EQ(pipeline_->stats().alerts.load(), 1u) << "not resolved on an end nobody checked";
  out_->broker_up = true;
  out_->ends[{"events", 1}] = 100;
  Tick();
  pipeline_->Drain();
  ASSERT_EQ(Fleet().size(), 2u);
  EXPECT_EQ(Fleet().back().status(), "resolved");
}

TEST_F(PipelineTest, AReplayedMessageRebuildsStateAndSendsNothing) {
  auto letters = std::make_unique<FakeRecords>();
  FakeRecords* dlq = letters.get();
  Make(std::move(letters));
  const std::vector<std::string> lines = IncidentLines();
  auto replay = [&](std::string_view payload) {
    return pipeline_->OnMessage(Message{.payload = payload, .origin = {.replayed = true}});
  };
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(replay(lines[i]), nullptr);
  EXPECT_EQ(replay("not json"), nullptr) << "dead-lettered when it was first read";
  for (size_t i = 4; i < lines.size(); ++i) Send(lines[i]);
  pipeline_->Drain();
  EXPECT_THAT(Rules(), ElementsAre("iis_rapid_fail_imminent", "iis_app_pool_disabled"))
      << "the burst was delivered before; the window still holds its three failures";
  EXPECT_EQ(sink_->alerts()[0].count(), 4u);
  const RunStats& s = pipeline_->stats();
  EXPECT_EQ(s.replayed.load(), 5u);
  EXPECT_EQ(s.replay_alerts.load(), 1u);
  EXPECT_EQ(s.messages.load(), 3u);
  EXPECT_EQ(s.rejected(), 0u);
  EXPECT_TRUE(dlq->records.empty());
}

TEST_F(PipelineTest, WhatTheSweepRaisesDuringAReplayIsSentNotHeldBack) {
  // The member that committed these may have swept only after its commit: what a sweep raises
  // while a partition replays is sent (at worst twice, under its fingerprint), never held back.
  const std::vector<std::string> lines = IncidentLines();
  const absl::Time t0 = absl::FromUnixSeconds(1'773'134'042);  // 2026-03-10T09:14:02Z
  auto replay = [&](std::string_view payload, absl::Time broker, int64_t offset) {
    return pipeline_->OnMessage(Message{
        .payload = payload,
        .origin = {.partition = 0, .offset = offset, .broker_time = broker, .replayed = true}});
  };
  pipeline_->OnPartitionsAssigned({{"events", 0}});
  for (size_t i = 0; i < lines.size(); ++i) {
    replay(lines[i], t0 + absl::Seconds(static_cast<int64_t>(i)), static_cast<int64_t>(i));
  }
  EXPECT_EQ(pipeline_->stats().replay_alerts.load(), 3u) << "what its events raised is held";
  // Three hours later on the partition's clock, still replayed: the sweep resolves them.
  replay(absl::StrReplaceAll(lines[0], {{"EXCH01", "OTHER01"}}), t0 + absl::Hours(3), 7);
  pipeline_->Drain();
  ASSERT_FALSE(sink_->alerts().empty());
  for (const Alert& a : sink_->alerts()) EXPECT_EQ(a.status(), "resolved") << a.rule();
}

TEST_F(PipelineTest, AnOpenIncidentHoldsItsPartitionsRestorePointAtItsFirstEvent) {
  // A commit's restore point (KafkaSource's commit metadata) reaches back to the first event of
  // an incident open on the partition, less max_clock_skew (a host's clock may run that far
  // ahead uncorrected), so that a restore rebuilds the incident whole; other partitions and the
  // time before the incident are not held back, and a revoked partition is its next owner's.
  const std::vector<std::string> lines = IncidentLines();
  const absl::Time t0 = absl::FromUnixSeconds(1'773'134'042);  // 2026-03-10T09:14:02Z
  pipeline_->OnPartitionsAssigned({{"events", 0}, {"events", 1}});
  auto send = [&](size_t i) {
    pipeline_->OnMessage(Message{.payload = lines[i],
                                 .origin = {.partition = 0,
                                            .offset = static_cast<int64_t>(i),
                                            .broker_time = t0 + absl::Seconds(int64_t(i))}});
  };
  const TopicPartition p0{"events", 0}, p1{"events", 1};
  for (size_t i = 0; i < 3; ++i) send(i);
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 3), -1) << "two failures: no incident yet";
  for (size_t i = 3; i < lines.size(); ++i) send(i);
  const absl::Time first_failure = absl::FromUnixMillis(1'773'134'043'472);  // WAS 5009
  const int64_t expected = absl::ToUnixMillis(first_failure - absl::Minutes(10));
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 7), expected) << "the pool is disabled: still open";
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 7), expected) << "asking again changes nothing";
  EXPECT_EQ(pipeline_->RestoreFrom(p1, 0), -1) << "nothing open on the other partition";
  // The other partition's hosts hold their own partition only.
  pipeline_->OnMessage(
      Message{.payload = absl::StrReplaceAll(lines[1], {{"EXCH01", "OTHER01"}}),
              .origin = {.partition = 1, .offset = 0, .broker_time = t0 + absl::Seconds(8)}});
  EXPECT_EQ(pipeline_->RestoreFrom(p1, 1), -1) << "one failure: nothing open there";
  pipeline_->OnPartitionsRevoked({p1});
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 7), expected);
  pipeline_->OnPartitionsRevoked({p0});
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 7), -1) << "revoked: its next owner's to hold";
  pipeline_->Drain();

  // Further back than a restore reads (KafkaSourceConfig::kMaxRestoreLookback) behind the
  // newest Kafka time read: forgotten at the next tick (the source clamps it until then).
  Make(nullptr);
  pipeline_->OnPartitionsAssigned({p0});
  for (size_t i = 0; i < lines.size(); ++i) send(i);
  pipeline_->Tick();
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 7), expected) << "until the tick (the source clamps it)";
  pipeline_->OnMessage(
      Message{.payload = absl::StrReplaceAll(lines[0], {{"EXCH01", "OTHER01"}}),
              .origin = {.partition = 0, .offset = 7, .broker_time = t0 + absl::Hours(7)}});
  pipeline_->Tick();
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 8), -1);
  pipeline_->Drain();
}

TEST_F(PipelineTest, AResolvedIncidentHoldsTheRestorePointUntilTheCommitPassesItsResolution) {
  // A worker of the disabled pool is seen again (WAS 5074, a recycle request): the incident
  // resolves. A commit before that message would replay it, so its first event still holds the
  // restore point; once the commit passes it and the resolution is delivered, nothing does.
  const std::vector<std::string> lines = IncidentLines();
  const absl::Time t0 = absl::FromUnixSeconds(1'773'134'042);  // 2026-03-10T09:14:02Z
  pipeline_->OnPartitionsAssigned({{"events", 0}});
  auto send = [&](std::string_view payload, int64_t offset) {
    pipeline_->OnMessage(Message{
        .payload = payload,
        .origin = {.partition = 0, .offset = offset, .broker_time = t0 + absl::Seconds(offset)}});
  };
  for (size_t i = 0; i < lines.size(); ++i) send(lines[i], static_cast<int64_t>(i));
  const std::string alive = absl::StrReplaceAll(
      lines.back(),
      {{"\"5002\"", "\"5074\""}, {"09:15:55.418Z", "09:20:00.000Z"}, {"912362", "912400"}});
  send(alive, 7);
  const TopicPartition p0{"events", 0};
  const int64_t first_failure =
      absl::ToUnixMillis(absl::FromUnixMillis(1'773'134'043'472) - absl::Minutes(10));
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 7), first_failure) << "resolved by the message at 7";
  pipeline_->Drain();
  int resolved = 0;
  for (const Alert& a : sink_->alerts()) resolved += a.status() == "resolved";
  EXPECT_EQ(resolved, 3) << "burst, imminent and disabled";
  EXPECT_EQ(pipeline_->RestoreFrom(p0, 8), -1) << "passed and delivered";
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

#include "sinks/dispatcher.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "core/testing/eventually.h"
#include "core/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/testing/fake_sink.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using testing::Eventually;
using ::testing::HasSubstr;

// Answers each Deliver from a script (then OK), recording what it saw and when (fake time).
class ScriptedSink final : public Sink {
 public:
  ScriptedSink(Clock& clock, std::vector<absl::Status> script, size_t batch = 1)
      : clock_(clock), script_(std::move(script)), batch_(batch) {}
  absl::Status Deliver(absl::Span<const Alert* const> alerts) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint32_t> sequences;
    for (const Alert* a : alerts) sequences.push_back(a->sequence());
    calls_.push_back({clock_.TimeNow(), sequences});
    if (next_ < script_.size()) return script_[next_++];
    for (const Alert* a : alerts) delivered_.push_back(a->sequence());
    return absl::OkStatus();
  }
  size_t max_batch() const override { return batch_; }
  struct Call {
    absl::Time at;
    std::vector<uint32_t> sequences;
  };
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<uint32_t> delivered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::vector<absl::Status> script_;
  size_t next_ = 0;  // guarded by mu_
  size_t batch_;
  std::vector<Call> calls_;          // guarded by mu_
  std::vector<uint32_t> delivered_;  // guarded by mu_
};

std::shared_ptr<const Alert> AlertNumber(uint32_t sequence) {
  auto a = std::make_shared<Alert>();
  a->set_rule("iis_worker_failure_burst");
  a->set_fingerprint("f00d");
  a->set_status("firing");
  a->set_sequence(sequence);
  return a;
}

std::unique_ptr<Dispatcher> Make(std::vector<Dispatcher::Route> routes, Clock& clock,
                                 const std::string& spool = "") {
  auto d = Dispatcher::Create(std::move(routes), spool, clock);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return nullptr;
  (*d)->Start();
  return std::move(*d);
}

Dispatcher::Route RouteTo(std::unique_ptr<Sink> sink, QueueOptions queue = {},
                          std::string type = "scripted") {
  return {.queue = std::move(queue), .type = std::move(type), .sink = std::move(sink)};
}

// A dispatcher with `sink` alone.
std::unique_ptr<Dispatcher> One(std::unique_ptr<Sink> sink, Clock& clock, QueueOptions queue = {},
                                std::string type = "scripted") {
  std::vector<Dispatcher::Route> routes;
  routes.push_back(RouteTo(std::move(sink), std::move(queue), std::move(type)));
  return Make(std::move(routes), clock);
}

TEST(DispatcherTest, DeliversInOrderInBatchesAndTellsTheTicket) {
  FakeClock clock;
  auto sink = std::make_unique<ScriptedSink>(clock, std::vector<absl::Status>{}, /*batch=*/4);
  ScriptedSink* s = sink.get();
  auto d = One(std::move(sink), clock);
  auto ticket = std::make_shared<DeliveryTicket>();
  for (uint32_t i = 1; i <= 10; ++i) d->Submit(AlertNumber(i), ticket);
  ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
  EXPECT_THAT(s->delivered(), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  for (const ScriptedSink::Call& c : s->calls()) EXPECT_LE(c.sequences.size(), 4u);
  EXPECT_EQ(d->sinks()[0].stats.delivered.load(), 10u);
  EXPECT_EQ(d->sinks()[0].stats.latency.Read().count, 10u);
}

TEST(DispatcherTest, RetriesWithGrowingBackoffUntilTheSinkTakesTheAlert) {
  FakeClock clock;
  const absl::Status down = absl::UnavailableError("connection refused");
  auto sink =
      std::make_unique<ScriptedSink>(clock, std::vector<absl::Status>{down, down, down, down});
  ScriptedSink* s = sink.get();
  auto d =
      One(std::move(sink), clock,
          QueueOptions{.retry_backoff = absl::Seconds(1), .retry_backoff_max = absl::Seconds(4)});
  auto ticket = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), ticket);
  ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
  const auto calls = s->calls();
  ASSERT_EQ(calls.size(), 5u);
  // Equal jitter: each wait is between half and all of min(max, initial * 2^attempt).
  const absl::Duration ceilings[] = {absl::Seconds(1), absl::Seconds(2), absl::Seconds(4),
                                     absl::Seconds(4)};
  for (int i = 0; i < 4; ++i) {
    const absl::Duration waited = calls[i + 1].at - calls[i].at;
    EXPECT_GE(waited, ceilings[i] / 2) << "attempt " << i;
    EXPECT_LE(waited, ceilings[i] + absl::Milliseconds(50)) << "attempt " << i;
  }
  EXPECT_EQ(d->sinks()[0].stats.retried.load(), 4u);
  EXPECT_EQ(d->sinks()[0].stats.delivered.load(), 1u);
}

TEST(DispatcherTest, WaitsAtLeastWhatRetryAfterAsks) {
  FakeClock clock;
  auto sink = std::make_unique<ScriptedSink>(
      clock, std::vector<absl::Status>{
                 WithRetryAfter(absl::UnavailableError("HTTP 429"), absl::Seconds(30))});
  ScriptedSink* s = sink.get();
  auto d = One(std::move(sink), clock);
  auto ticket = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), ticket);
  ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
  const auto calls = s->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_GE(calls[1].at - calls[0].at, absl::Seconds(30));
  EXPECT_LT(calls[1].at - calls[0].at, absl::Seconds(31));
}

TEST(DispatcherTest, CountsARefusalForGoodAndGoesOnWithoutRetrying) {
  FakeClock clock;
  auto sink = std::make_unique<ScriptedSink>(
      clock, std::vector<absl::Status>{absl::FailedPreconditionError("HTTP 400: bad payload")});
  ScriptedSink* s = sink.get();
  auto d = One(std::move(sink), clock);
  auto ticket = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), ticket);
  d->Submit(AlertNumber(2), ticket);
  ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
  EXPECT_THAT(s->delivered(), ElementsAre(2));
  EXPECT_EQ(s->calls().size(), 2u) << "the refused alert was not sent again";
  EXPECT_EQ(d->sinks()[0].stats.failed.load(), 1u);
  EXPECT_EQ(d->sinks()[0].stats.retried.load(), 0u);
}

// Refuses for good any batch that holds alert number 2, as a peer refuses one bad alert. Its
// first delivery waits for release(), so what is queued meanwhile leaves as one batch.
class PickySink final : public Sink {
 public:
  absl::Status Deliver(absl::Span<const Alert* const> alerts) override {
    while (!released_.load()) absl::SleepFor(absl::Milliseconds(1));
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    for (const Alert* a : alerts) {
      if (a->sequence() == 2) return absl::FailedPreconditionError("HTTP 400: bad alert");
    }
    for (const Alert* a : alerts) delivered_.push_back(a->sequence());
    return absl::OkStatus();
  }
  size_t max_batch() const override { return 10; }
  std::vector<uint32_t> delivered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return delivered_;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  void release() { released_.store(true); }

 private:
  std::atomic<bool> released_{false};
  mutable std::mutex mu_;
  std::vector<uint32_t> delivered_;
  int calls_ = 0;
};

TEST(DispatcherTest, ABatchRefusedForGoodIsTriedAlertByAlert) {
  FakeClock clock;
  auto sink = std::make_unique<PickySink>();
  PickySink* picky = sink.get();
  auto d = One(std::move(sink), clock);
  auto tickets = std::vector<std::shared_ptr<DeliveryTicket>>();
  for (uint32_t i = 1; i <= 4; ++i) {
    tickets.push_back(std::make_shared<DeliveryTicket>());
    d->Submit(AlertNumber(i), tickets.back());
    if (i == 1) {  // the worker holds alert 1; 2-4 queue up behind it
      ASSERT_TRUE(Eventually([&] { return d->sinks()[0].stats.queued.load() == 1; }));
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  picky->release();
  ASSERT_TRUE(Eventually([&] {
    for (auto& t : tickets) {
      if (!t->done()) return false;
    }
    return true;
  }));
  EXPECT_THAT(picky->delivered(), ElementsAre(1, 3, 4))
      << "the bad alert did not take the others with it";
  EXPECT_EQ(picky->calls(), 5) << "{1}, {2,3,4} refused, then 2, 3 and 4 alone";
  EXPECT_EQ(d->sinks()[0].stats.failed.load(), 1u);
  EXPECT_EQ(d->sinks()[0].stats.delivered.load(), 3u);
}

TEST(DispatcherTest, ATicketIsDoneOnlyWhenEverySinkHasTheAlert) {
  FakeClock clock;
  auto fast = std::make_unique<FakeSink>();
  auto slow = std::make_unique<FakeSink>();
  FakeSink* slow_sink = slow.get();
  slow->set_status(absl::UnavailableError("down"));
  std::vector<Dispatcher::Route> routes;
  routes.push_back(RouteTo(std::move(fast), {}, "fake"));
  routes.push_back(RouteTo(std::move(slow), {}, "fake"));
  auto d = Make(std::move(routes), clock);
  auto ticket = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), ticket);
  ASSERT_TRUE(Eventually([&] { return d->sinks()[0].stats.delivered.load() == 1; }));
  EXPECT_FALSE(ticket->done()) << "the second sink has not delivered it";
  slow_sink->set_status(absl::OkStatus());
  ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
  EXPECT_EQ(d->sinks()[0].name, "fake");
  EXPECT_EQ(d->sinks()[1].name, "fake-2") << "unnamed sinks are named by type";
}

TEST(DispatcherTest, AFullQueueSaturatesUntilItDrainedToHalf) {
  FakeClock clock;
  auto sink = std::make_unique<FakeSink>();
  FakeSink* fake = sink.get();
  fake->set_status(absl::UnavailableError("down"));
  auto d = One(std::move(sink), clock, QueueOptions{.capacity = 4}, "fake");
  for (uint32_t i = 1; i <= 3; ++i) d->Submit(AlertNumber(i), nullptr);
  EXPECT_FALSE(d->Saturated());
  d->Submit(AlertNumber(4), nullptr);
  EXPECT_TRUE(d->Saturated()) << "at capacity";
  d->Submit(AlertNumber(5), nullptr);  // beyond capacity: kept, never dropped
  EXPECT_TRUE(d->Saturated());
  fake->set_status(absl::OkStatus());
  ASSERT_TRUE(Eventually([&] { return fake->alerts().size() == 5; }));
  EXPECT_FALSE(d->Saturated());
  EXPECT_EQ(d->sinks()[0].stats.dropped.load(), 0u);
}

TEST(DispatcherTest, DropsAndCountsWhenFullIfToldTo) {
  FakeClock clock;
  auto sink = std::make_unique<FakeSink>();
  FakeSink* fake = sink.get();
  fake->set_status(absl::UnavailableError("down"));
  auto d = One(std::move(sink), clock, QueueOptions{.capacity = 2, .drop_when_full = true}, "fake");
  auto dropped = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), nullptr);
  d->Submit(AlertNumber(2), nullptr);
  d->Submit(AlertNumber(3), dropped);
  EXPECT_TRUE(dropped->done()) << "a dropped alert holds no commit";
  EXPECT_FALSE(d->Saturated()) << "dropping never pauses the source";
  EXPECT_EQ(d->sinks()[0].stats.dropped.load(), 1u);
}

TEST(DispatcherTest, StopLeavesWhatItCouldNotDeliverUnacknowledged) {
  FakeClock clock;
  auto sink = std::make_unique<FakeSink>();
  sink->set_status(absl::UnavailableError("down"));
  auto d = One(std::move(sink), clock, {}, "fake");
  auto ticket = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), ticket);
  d->Stop(absl::Milliseconds(200));
  EXPECT_FALSE(ticket->done()) << "its event must be read again after a restart";
  EXPECT_EQ(d->sinks()[0].stats.queued.load(), 1u);
}

// Delivers once the test opens its gate.
class GatedSink final : public Sink {
 public:
  absl::Status Deliver(absl::Span<const Alert* const>) override {
    std::unique_lock<std::mutex> lock(mu_);
    opened_.wait(lock, [this] { return open_; });
    return absl::OkStatus();
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    opened_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable opened_;
  bool open_ = false;  // guarded by mu_
};

TEST(DispatcherTest, StopReturnsAsSoonAsTheLastAlertIsDeliveredNotAtItsDeadline) {
  FakeClock clock;  // the sinks' clock; Stop's deadline is real time
  auto sink = std::make_unique<GatedSink>();
  GatedSink* gate = sink.get();
  auto d = One(std::move(sink), clock, {}, "gated");
  auto ticket = std::make_shared<DeliveryTicket>();
  for (uint32_t i = 1; i <= 3; ++i) d->Submit(AlertNumber(i), ticket);
  // Opened while Stop waits: only a worker telling Stop that it drained can end the wait early.
  std::thread opener([gate] {
    RealClock::Get().SleepFor(absl::Milliseconds(50));
    gate->Open();
  });
  const absl::Time start = RealClock::Get().TimeNow();
  d->Stop(absl::Minutes(5));
  const absl::Duration waited = RealClock::Get().TimeNow() - start;
  opener.join();
  EXPECT_TRUE(ticket->done());
  EXPECT_EQ(d->sinks()[0].stats.delivered.load(), 3u);
  // Not a speed claim: a Stop that polled or slept to its deadline would take the 5 minutes.
  EXPECT_LT(waited, absl::Minutes(1));
}

TEST(DispatcherTest, RefusesTwoSinksWithOneName) {
  FakeClock clock;
  std::vector<Dispatcher::Route> routes;
  routes.push_back(RouteTo(std::make_unique<FakeSink>(), QueueOptions{.name = "ops"}));
  routes.push_back(RouteTo(std::make_unique<FakeSink>(), QueueOptions{.name = "ops"}));
  auto d = Dispatcher::Create(std::move(routes), "", clock);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("two sinks are named \"ops\""));
}

class DispatcherSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/dispatcher_spool_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  // A dispatcher on the test's spool with one FakeSink (returned in `sink`), as a run of faultline
  // with that one sink configured.
  std::unique_ptr<Dispatcher> Start(const QueueOptions& queue, Clock& clock, FakeSink** sink) {
    auto fake = std::make_unique<FakeSink>();
    *sink = fake.get();
    std::vector<Dispatcher::Route> routes;
    routes.push_back(RouteTo(std::move(fake), queue, "fake"));
    return Make(std::move(routes), clock, dir_);
  }
  std::string dir_;
};

TEST_F(DispatcherSpoolTest, WantsANameForEachSinkOfOneTypeItJournals) {
  FakeClock clock;
  std::vector<Dispatcher::Route> routes;
  routes.push_back(RouteTo(std::make_unique<FakeSink>(), {}, "webhook"));
  routes.push_back(RouteTo(std::make_unique<FakeSink>(), {}, "webhook"));
  auto d = Dispatcher::Create(std::move(routes), dir_, clock);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()),
              HasSubstr("with delivery.spool_dir, give each webhook sink a name"));
}

// A spool the host does not let faultline open (here a file in the way; a read-only disk in
// tests/reliability/disk_fault_test.py) is a fault that may pass: the dispatcher starts,
// acknowledges nothing (so no commit passes the alert) and opens the spool once it can.
TEST_F(DispatcherSpoolTest, ASpoolThatCannotBeOpenedAcknowledgesNothingUntilItOpens) {
  FakeClock clock;
  std::ofstream(dir_) << "a regular file, not a directory";
  FakeSink* sink = nullptr;
  auto d = Start({.name = "hook"}, clock, &sink);
  ASSERT_NE(d, nullptr) << "the service stays up";
  EXPECT_TRUE(d->spooled());
  EXPECT_EQ(d->spool(), nullptr);
  EXPECT_TRUE(d->Saturated()) << "the source pauses: nothing could be made durable";
  auto ticket = std::make_shared<DeliveryTicket>();
  d->Submit(AlertNumber(1), ticket);
  ASSERT_TRUE(Eventually([&] { return d->spool_write_errors() >= 2; })) << "retried, counted";
  EXPECT_FALSE(ticket->done()) << "acknowledged without being durable";
  EXPECT_TRUE(sink->alerts().empty()) << "delivered before it was journaled";
  EXPECT_TRUE(Eventually([&] { return d->unjournaled() == 1; }))
      << "waiting, unacknowledged (between attempts)";

  std::filesystem::remove(dir_);  // the disk is back
  ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
  ASSERT_TRUE(Eventually([&] { return sink->alerts().size() == 1; }));
  EXPECT_NE(d->spool(), nullptr);
  EXPECT_FALSE(d->Saturated());
  EXPECT_EQ(d->unjournaled(), 0U);
  d->Stop(absl::Seconds(5));
}

// What the last run left undelivered in a spool that cannot be opened at this start is
// delivered once it opens.
TEST_F(DispatcherSpoolTest, WhatALateSpoolHoldsIsDeliveredOnceItOpens) {
  FakeClock clock;
  const QueueOptions hook{.name = "hook"};
  {
    FakeSink* down = nullptr;
    auto d = Start(hook, clock, &down);
    down->set_status(absl::UnavailableError("receiver down"));
    auto ticket = std::make_shared<DeliveryTicket>();
    for (uint32_t i = 1; i <= 2; ++i) d->Submit(AlertNumber(i), ticket);
    ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
    d->Stop(absl::Milliseconds(100));
  }
  const std::string away = dir_ + ".away";
  std::filesystem::remove_all(away);
  std::filesystem::rename(dir_, away);  // the disk with the spool is not mounted yet
  std::ofstream(dir_) << "in the way";
  FakeSink* up = nullptr;
  auto d = Start(hook, clock, &up);
  ASSERT_TRUE(Eventually([&] { return d->spool_write_errors() >= 1; }));
  EXPECT_TRUE(up->alerts().empty());
  // Just after a failed attempt (the next is a second away), so that the journal does not
  // create an empty spool between the two steps.
  const uint64_t failed = d->spool_write_errors();
  ASSERT_TRUE(Eventually([&] { return d->spool_write_errors() > failed; }));
  std::filesystem::remove(dir_);
  std::filesystem::rename(away, dir_);  // mounted
  ASSERT_TRUE(Eventually([&] { return up->alerts().size() == 2; }));
  EXPECT_EQ(up->alerts()[0].sequence(), 1U);
  EXPECT_EQ(up->alerts()[1].sequence(), 2U);
  d->Stop(absl::Seconds(5));
}

TEST_F(DispatcherSpoolTest, DoesNotJournalBestEffortSinks) {
  FakeClock clock;
  const QueueOptions chat{.name = "chat", .drop_when_full = true};
  {
    FakeSink* down = nullptr;
    auto d = Start(chat, clock, &down);
    down->set_status(absl::UnavailableError("chat is down"));
    auto ticket = std::make_shared<DeliveryTicket>();
    d->Submit(AlertNumber(1), ticket);
    ASSERT_TRUE(Eventually([&] { return ticket->done(); }));
    d->Stop(absl::Milliseconds(100));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/cursor.chat")) << "no place kept for it";
  FakeSink* up = nullptr;
  auto d = Start(chat, clock, &up);  // owns the sink: keep it while reading it
  d->Stop(absl::Seconds(1));
  EXPECT_TRUE(up->alerts().empty()) << "a best-effort sink starts afresh";
}

TEST_F(DispatcherSpoolTest, AcknowledgesOnceDurableAndDeliversAfterARestart) {
  FakeClock clock;
  const QueueOptions hook{.name = "hook"};
  auto ticket = std::make_shared<DeliveryTicket>();
  {
    FakeSink* down = nullptr;
    auto d = Start(hook, clock, &down);
    down->set_status(absl::UnavailableError("receiver down"));
    for (uint32_t i = 1; i <= 3; ++i) d->Submit(AlertNumber(i), ticket);
    ASSERT_TRUE(Eventually([&] { return ticket->done(); }))
        << "durable in the spool: the source may commit though nothing was delivered";
    d->Stop(absl::Milliseconds(100));
  }
  FakeSink* up = nullptr;
  auto d = Start(hook, clock, &up);
  ASSERT_TRUE(Eventually([&] { return up->alerts().size() == 3; }));
  std::vector<uint32_t> sequences;
  for (const Alert& a : up->alerts()) sequences.push_back(a.sequence());
  EXPECT_THAT(sequences, ElementsAre(1, 2, 3)) << "in order, after the restart";
  d->Stop(absl::Seconds(5));

  // Delivered and checkpointed: a third start has nothing left to send.
  FakeSink* third = nullptr;
  auto d3 = Start(hook, clock, &third);
  d3->Stop(absl::Seconds(1));
  EXPECT_TRUE(third->alerts().empty());
}

}  // namespace
}  // namespace faultline

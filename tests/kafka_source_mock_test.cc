// The Kafka source's commit policy on librdkafka's in-process mock cluster (fast; the real
// broker proves the rest in kafka_e2e_test). Time is a FakeClock: the commit timer fires only
// when the test moves the clock.
#include <mutex>
#include <thread>

#include "app/kafka_publish.h"
#include "core/testing/fake_clock.h"
#include "core/testing/kafka_env.h"
#include "gtest/gtest.h"
#include "ingest/kafka/kafka_source.h"
#include "librdkafka/rdkafka_mock.h"

namespace faultline {
namespace {

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto producer = NewPublisher("", {{"test.mock.num.brokers", "1"}});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *producer;
    rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer_);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster);
    rd_kafka_mock_topic_create(cluster, "events", 1, 1);
    std::vector<KafkaRecord> records;
    for (int i = 0; i < 5; ++i) records.push_back({"host", "{\"n\":" + std::to_string(i) + "}"});
    ASSERT_TRUE(PublishAll(producer_, "events", records).ok());
  }
  void TearDown() override { rd_kafka_destroy(producer_); }

  int64_t Committed(const std::string& group) {
    return testing::CommittedOffset(bootstrap_, group, "events");
  }

  KafkaSourceConfig Config(const std::string& group) {
    return {.brokers = bootstrap_,
            .topics = {"events"},
            .group_id = group,
            .commit_interval = absl::Seconds(5),
            .stop_at_end = true};
  }

  rd_kafka_t* producer_ = nullptr;
  std::string bootstrap_;
};

// Counts messages and optionally moves the fake clock past the commit interval after each.
class Handler : public MessageHandler {
 public:
  explicit Handler(FakeClock* advance = nullptr) : advance_(advance) {}
  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& m) override {
    offsets.push_back(m.origin.offset);
    if (advance_) advance_->Advance(absl::Seconds(6));
    return nullptr;
  }
  std::vector<int64_t> offsets;

 private:
  FakeClock* advance_;
};

// Saturated from the second message until the test says otherwise; holds the commit at message
// 3 with a ticket that is never done.
class BusyHandler : public MessageHandler {
 public:
  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    offsets_.push_back(m.origin.offset);
    if (m.origin.offset == 3) {
      auto ticket = std::make_shared<DeliveryTicket>();
      ticket->Expect(1);  // an alert that is never delivered
      return ticket;
    }
    return nullptr;
  }
  bool Saturated() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return offsets_.size() >= 2 && !released_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
  }
  std::vector<int64_t> offsets() const {
    std::lock_guard<std::mutex> lock(mu_);
    return offsets_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<int64_t> offsets_;  // guarded by mu_
  bool released_ = false;         // guarded by mu_
};

TEST_F(KafkaSourceTest, PausesWhileTheHandlerIsSaturatedAndResumesWithoutAGap) {
  auto source = KafkaSource::Create(Config("paused"), RealClock::Get());
  ASSERT_TRUE(source.ok()) << source.status();
  BusyHandler handler;
  std::atomic<bool> stop{false};
  std::thread run([&] { EXPECT_TRUE((*source)->Run(handler, stop).ok()); });
  // Consumption stops at two messages and stays there while the handler is saturated.
  for (int i = 0; i < 300 && handler.offsets().size() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(handler.offsets(), (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE((*source)->stats().paused.load());
  handler.Release();
  run.join();  // stop_at_end: returns once the rest is consumed
  EXPECT_EQ(handler.offsets(), (std::vector<int64_t>{0, 1, 2, 3, 4})) << "nothing skipped";
  EXPECT_EQ((*source)->stats().pauses.load(), 1u);
  EXPECT_FALSE((*source)->stats().paused.load());
  EXPECT_EQ(Committed("paused"), 3) << "held at the message whose alert was never delivered";
}

TEST_F(KafkaSourceTest, CommitsOnlyAtShutdownWhileTheClockStandsStill) {
  FakeClock clock;
  auto source = KafkaSource::Create(Config("frozen"), clock);
  ASSERT_TRUE(source.ok()) << source.status();
  Handler handler;
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*source)->Run(handler, stop).ok());
  EXPECT_EQ(handler.offsets, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ((*source)->stats().commits, 1u) << "the final synchronous commit only";
  EXPECT_EQ(Committed("frozen"), 5);
}

TEST_F(KafkaSourceTest, CommitsOnTheTimerAsTheClockMoves) {
  FakeClock clock;
  auto source = KafkaSource::Create(Config("ticking"), clock);
  ASSERT_TRUE(source.ok()) << source.status();
  Handler handler(&clock);
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*source)->Run(handler, stop).ok());
  EXPECT_EQ((*source)->stats().commits, 5u) << "one timer commit per message, none left at the end";
  EXPECT_EQ(Committed("ticking"), 5);
}

}  // namespace
}  // namespace faultline

// The Kafka source's commit policy on librdkafka's in-process mock cluster (fast; the real
// broker proves the rest in kafka_e2e_test). Time is a FakeClock: the commit timer fires only
// when the test moves the clock.
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "app/kafka_publish.h"
#include "core/testing/eventually.h"
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
    producer_ = *std::move(producer);
    rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer_.get());
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster);
    rd_kafka_mock_topic_create(cluster, "events", 1, 1);
    std::vector<KafkaRecord> records;
    for (int i = 0; i < 5; ++i) records.push_back({"host", "{\"n\":" + std::to_string(i) + "}"});
    ASSERT_TRUE(PublishAll(producer_.get(), "events", records).ok());
  }

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

  KafkaClient producer_;  // hosts the mock cluster
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

// Records what it is handed, in order: partition and Kafka timestamp.
class OrderHandler : public MessageHandler {
 public:
  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& m) override {
    seen.emplace_back(m.origin.partition, absl::ToUnixMillis(m.origin.broker_time));
    return nullptr;
  }
  std::vector<std::pair<int32_t, int64_t>> seen;
};

TEST_F(KafkaSourceTest, MergeWaitHandsMessagesOverInTimestampOrderAcrossPartitions) {
  // An unkeyed topic: one forwarder's records spread over three partitions, each partition
  // written in one go, so a plain consumer sees them partition by partition.
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer_.get());
  rd_kafka_mock_topic_create(cluster, "spread", 3, 1);
  const int64_t t0 = 1'700'000'000'000;
  for (int32_t partition = 0; partition < 3; ++partition) {
    for (int k = 0; k < 20; ++k) {
      const std::string value = absl::StrCat("{\"n\":", k, "}");
      ASSERT_EQ(rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC("spread"),
                                  RD_KAFKA_V_PARTITION(partition),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_TIMESTAMP(t0 + partition + 3 * k), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  }
  ASSERT_EQ(rd_kafka_flush(producer_.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);

  KafkaSourceConfig config = Config(testing::UniqueName("merge"));
  config.topics = {"spread"};
  config.merge_wait = absl::Milliseconds(500);
  auto source = KafkaSource::Create(config, RealClock::Get());
  ASSERT_TRUE(source.ok()) << source.status();
  OrderHandler handler;
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*source)->Run(handler, stop).ok());
  ASSERT_EQ(handler.seen.size(), 60u);
  for (size_t i = 0; i < handler.seen.size(); ++i) {
    EXPECT_EQ(handler.seen[i].second, t0 + static_cast<int64_t>(i)) << "message " << i;
    EXPECT_EQ(handler.seen[i].first, static_cast<int32_t>(i % 3)) << "message " << i;
  }
  for (int32_t partition = 0; partition < 3; ++partition) {
    EXPECT_EQ(testing::CommittedOffset(bootstrap_, config.group_id, "spread", partition), 20)
        << "every handed-over message committed";
  }
}

// Holds the commit of each partition at its message 1 with a ticket never done (an alert still
// being delivered); records every (partition, offset) it is handed, from any thread.
class HoldingHandler : public MessageHandler {
 public:
  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.emplace_back(m.origin.partition, m.origin.offset);
    if (m.origin.offset != 1) return nullptr;
    auto ticket = std::make_shared<DeliveryTicket>();
    ticket->Expect(1);
    return ticket;
  }
  std::vector<std::pair<int32_t, int64_t>> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<int32_t, int64_t>> seen_;  // guarded by mu_
};

// A member joins while the first one holds both partitions with deliveries in flight: under the
// eager protocol the first is revoked everything and given one partition back, its state in
// memory. It reads that one on from where it had processed it, not from its commit (held back
// at message 1): an event handed over twice would be taken for a late one by the detectors, its
// first reading forgotten by then (a service crash loop raised again under a new fingerprint in
// reliability_clock). Under the cooperative protocol it keeps the partition outright.
TEST_F(KafkaSourceTest, APartitionGivenBackAtARebalanceIsReadOnFromWhereItWasProcessed) {
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer_.get());
  rd_kafka_mock_topic_create(cluster, "kept", 2, 1);
  auto publish = [&](int from, int to) {
    for (int32_t partition = 0; partition < 2; ++partition) {
      for (int k = from; k < to; ++k) {
        const std::string value = absl::StrCat("{\"n\":", k, "}");
        ASSERT_EQ(rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC("kept"),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
      }
    }
    ASSERT_EQ(rd_kafka_flush(producer_.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  };
  publish(0, 5);
  KafkaSourceConfig config = Config(testing::UniqueName("kept"));
  config.topics = {"kept"};
  config.stop_at_end = false;
  config.commit_interval = absl::Milliseconds(100);
  config.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "200"}};
  auto first = KafkaSource::Create(config, RealClock::Get());
  ASSERT_TRUE(first.ok()) << first.status();
  HoldingHandler first_seen;
  std::atomic<bool> stop{false};
  std::thread first_run([&] { EXPECT_TRUE((*first)->Run(first_seen, stop).ok()); });
  // The mock cluster's rebalance takes seconds: up to 30 s each.
  auto wait_for = [](const std::function<bool()>& done) {
    return testing::Eventually(done, absl::Seconds(30));
  };
  ASSERT_TRUE(wait_for([&] { return first_seen.seen().size() == 10; }));

  auto second = KafkaSource::Create(config, RealClock::Get());
  ASSERT_TRUE(second.ok()) << second.status();
  HoldingHandler second_seen;
  std::thread second_run([&] { EXPECT_TRUE((*second)->Run(second_seen, stop).ok()); });
  ASSERT_TRUE(wait_for([&] { return (*second)->stats().joined.load(); }));
  ASSERT_TRUE(wait_for([&] { return (*first)->stats().rebalances.load() >= 2; }));
  publish(5, 8);
  // Every message of both partitions handed to some member, each after the first reading of
  // it: 10 + 6 new, and the second member's reading again of the partition it took over.
  ASSERT_TRUE(wait_for([&] {
    std::set<std::pair<int32_t, int64_t>> all;
    for (const auto& m : first_seen.seen()) all.insert(m);
    for (const auto& m : second_seen.seen()) all.insert(m);
    return all.size() == 16;
  }));
  absl::SleepFor(absl::Milliseconds(500));  // anything handed over twice would be by now
  stop = true;
  first_run.join();
  second_run.join();
  std::map<std::pair<int32_t, int64_t>, int> times;
  for (const auto& m : first_seen.seen()) ++times[m];
  // The first member was given a partition back and read on in it (offsets 5 to 7 came after
  // the rebalance), else there would be nothing to test.
  ASSERT_TRUE(std::any_of(times.begin(), times.end(), [](const auto& t) {
    return t.first.second >= 5;
  })) << "the first member read nothing after the rebalance";
  for (const auto& [message, n] : times) {
    EXPECT_EQ(n, 1) << "the first member was handed partition " << message.first << "'s offset "
                    << message.second << " " << n << " times";
  }
}

}  // namespace
// The pre-fetch settings follow the librdkafka the process runs with: the 2.0.2 stall needs a
// queue holding more than a second of traffic; from 2.3 a short fetch back-off and a small queue.
TEST(ConsumerDefaultsTest, FollowTheRunningLibrdkafka) {
  const ConsumerDefaults old = ConsumerDefaults::For(0x020002ff);  // 2.0.2, Debian 12
  EXPECT_EQ(old.queued_max_messages_kbytes, 65536);
  EXPECT_TRUE(old.properties.empty());
  EXPECT_TRUE(ConsumerDefaults::For(0x020201ff).properties.empty());   // 2.2.1: not yet
  const ConsumerDefaults current = ConsumerDefaults::For(0x020800ff);  // 2.8.0, Debian 13
  EXPECT_EQ(current.queued_max_messages_kbytes, 16384);
  ASSERT_FALSE(current.properties.empty());
  EXPECT_EQ(current.properties[0].first, "fetch.queue.backoff.ms");
  EXPECT_EQ(current.properties[0].second, "10");
  EXPECT_EQ(ConsumerDefaults::For(0x020300ff).properties, current.properties);  // 2.3.0: from here
}

// What a configuration gets: the defaults of its librdkafka, unless kafka's own key or
// kafka.properties says otherwise.
TEST(ConsumerDefaultsTest, ExplicitSettingsWin) {
  KafkaSourceConfig config{.brokers = "127.0.0.1:9", .topics = {"events"}};
  using Settings = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ConsumerDefaults::Effective(config, 0x020002ff),
            (Settings{{"queued.max.messages.kbytes", "65536"}}));
  config.queued_max_messages_kbytes = 1024;
  config.properties = {{"fetch.queue.backoff.ms", "50"}, {"linger.ms", "5"}};
  EXPECT_EQ(ConsumerDefaults::Effective(config, 0x020800ff),
            (Settings{{"queued.max.messages.kbytes", "1024"},
                      {"fetch.queue.backoff.ms", "50"},
                      {"queued.min.messages", "20000"}}));
  config.queued_max_messages_kbytes = 0;
  config.properties = {{"queued.max.messages.kbytes", "4096"}};
  EXPECT_EQ(ConsumerDefaults::Effective(config, 0x020800ff)[0].second, "4096");
}

// Whatever this process links (2.0.2 on Debian 12, 2.8.0 in the Debian 13 image), librdkafka
// accepts the settings chosen for it.
TEST(ConsumerDefaultsTest, TheRunningLibrdkafkaAcceptsItsDefaults) {
  KafkaSourceConfig config{.brokers = "127.0.0.1:9", .topics = {"events"}};
  EXPECT_TRUE(KafkaSource::Validate(config).ok()) << rd_kafka_version_str();
}

}  // namespace faultline

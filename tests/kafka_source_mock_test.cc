// The Kafka source's commit policy on librdkafka's in-process mock cluster (fast; the real
// broker proves the rest in kafka_e2e_test). Time is a FakeClock: the commit timer fires only
// when the test moves the clock.
#include "app/kafka_publish.h"
#include "core/testing/fake_clock.h"
#include "gtest/gtest.h"
#include "ingest/kafka/kafka_source.h"
#include "librdkafka/rdkafka_mock.h"
#include "core/testing/kafka_env.h"

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

#include "ingest/kafka/topic_producer.h"

#include <utility>

#include "core/clock.h"
#include "core/kafka/handles.h"
#include "core/kafka/producer.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka_mock.h"

namespace faultline {
namespace {

TEST(TopicProducerTest, HoldsTheTicketAndRetriesWhileTheTopicIsUnreachable) {
  // Nothing listens on port 1: every attempt times out after 200 ms, a failure a retry can fix.
  auto dlq = TopicProducer::Create("dead letters", "127.0.0.1:1", "dead-letters",
                                   {{"message.timeout.ms", "200"}, {"log_level", "0"}});
  ASSERT_TRUE(dlq.ok()) << dlq.status();
  auto ticket = std::make_shared<DeliveryTicket>();
  (*dlq)->Publish(
      DeadLetter(Message{.payload = "not json", .origin = {.partition = 0, .offset = 7}},
                 ParseError::kNotJson),
      ticket);
  for (int i = 0; i < 30 && (*dlq)->stats().retried.load() < 2; ++i) {
    RealClock::Get().SleepFor(absl::Milliseconds(100));
    (*dlq)->Poll();
  }
  EXPECT_GE((*dlq)->stats().retried.load(), 2u) << "produced again after each timeout";
  EXPECT_FALSE(ticket->done()) << "the rejected message is not committed without its dead letter";
  EXPECT_EQ((*dlq)->stats().delivered.load(), 0u);
  EXPECT_EQ((*dlq)->stats().dropped.load(), 0u);
  EXPECT_FALSE((*dlq)->Flush(absl::Milliseconds(300)).ok());
}

TEST(TopicProducerTest, AFullLocalQueueKeepsTheRecordsAndTheirTickets) {
  // librdkafka's queue holds one message and the broker is unreachable: the second and third
  // are refused with QUEUE_FULL, and must wait, not count as delivered.
  auto producer = TopicProducer::Create(
      "rekeyed events", "127.0.0.1:1", "by-host",
      {{"queue.buffering.max.messages", "1"}, {"message.timeout.ms", "60000"}, {"log_level", "0"}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::vector<std::shared_ptr<DeliveryTicket>> tickets;
  for (int i = 0; i < 3; ++i) {
    tickets.push_back(std::make_shared<DeliveryTicket>());
    (*producer)->Publish(KafkaRecord{.key = "WEB01", .value = "event"}, tickets.back());
  }
  (*producer)->Poll();
  for (const auto& t : tickets) EXPECT_FALSE(t->done());
  EXPECT_EQ((*producer)->stats().dropped.load(), 0u);
  EXPECT_GE((*producer)->stats().retried.load(), 2u);
  EXPECT_FALSE((*producer)->Flush(absl::Milliseconds(200)).ok());
}

TEST(TopicProducerTest, LearnsThePartitionCountFromTheCluster) {
  // librdkafka's in-process mock cluster stands for the brokers; it lives on a client of its own.
  KafkaConf conf = NewKafkaConf();
  ASSERT_EQ(SetKafkaProperty(conf.get(), "log_level", "0"), "");
  absl::StatusOr<KafkaClient> host = NewKafkaClient(RD_KAFKA_PRODUCER, std::move(conf));
  ASSERT_TRUE(host.ok()) << host.status();
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host->get(), 1);
  ASSERT_NE(cluster, nullptr);
  ASSERT_EQ(rd_kafka_mock_topic_create(cluster, "by-host", 3, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  {
    auto producer =
        TopicProducer::Create("rekeyed events", rd_kafka_mock_cluster_bootstraps(cluster),
                              "by-host", {{"log_level", "0"}});
    ASSERT_TRUE(producer.ok()) << producer.status();
    EXPECT_EQ((*producer)->Partitions(absl::UnixEpoch()), 3);
  }
  rd_kafka_mock_cluster_destroy(cluster);
}

TEST(TopicProducerTest, ADeadLetterCarriesTheMessageAndWhereItCameFrom) {
  const KafkaRecord r = DeadLetter(Message{.payload = "{\"x\":",
                                           .key = "WEB01",
                                           .topic = "winlogbeat",
                                           .origin = {.partition = 4, .offset = 77}},
                                   ParseError::kTruncated);
  EXPECT_EQ(r.key, "WEB01");
  EXPECT_EQ(r.value, "{\"x\":");
  EXPECT_EQ(r.headers, (KafkaProperties{{"faultline.reason", "truncated"},
                                        {"faultline.source.topic", "winlogbeat"},
                                        {"faultline.source.partition", "4"},
                                        {"faultline.source.offset", "77"}}));
}

TEST(TopicProducerTest, RefusesAnEmptyTopicAndNamesABadProperty) {
  EXPECT_FALSE(TopicProducer::Create("dead letters", "127.0.0.1:1", "").ok());
  auto bad = TopicProducer::Create("dead letters", "127.0.0.1:1", "t", {{"no.such.property", "1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no.such.property"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace faultline

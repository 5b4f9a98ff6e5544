#include "core/kafka/producer.h"

#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka_mock.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SetKafkaPropertyTest, NeverShowsTheValueGivenEvenWhenLibrdkafkaCutsItsMessage) {
  KafkaConf conf = NewKafkaConf();
  // A short value librdkafka refuses: named as the property, the value replaced.
  const std::string short_error = SetKafkaProperty(conf.get(), "security.protocol", "s3cret-pw");
  EXPECT_THAT(short_error, HasSubstr("security.protocol: "));
  EXPECT_THAT(short_error, Not(HasSubstr("s3cret-pw")));
  // A PEM key given to an enum property by mistake: librdkafka's 512-byte message holds only its
  // beginning, which must not be shown either.
  std::string key = "-----BEGIN PRIVATE KEY-----\n";
  for (int i = 0; i < 40; ++i) key += "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
  const std::string long_error = SetKafkaProperty(conf.get(), "security.protocol", key);
  EXPECT_THAT(long_error, HasSubstr("security.protocol: "));
  EXPECT_THAT(long_error, Not(HasSubstr("MIIEvQIBADANBgkq")));
  EXPECT_THAT(long_error, Not(HasSubstr("-----BEGIN")));
  EXPECT_EQ(SetKafkaProperty(conf.get(), "security.protocol", "ssl"), "");
}

// A client of its own with librdkafka's in-process mock cluster (one broker) for a broker.
KafkaClient MockClusterClient() {
  KafkaConf conf = NewKafkaConf();
  EXPECT_EQ(SetKafkaProperty(conf.get(), "test.mock.num.brokers", "1"), "");
  EXPECT_EQ(SetKafkaProperty(conf.get(), "log_level", "0"), "");
  absl::StatusOr<KafkaClient> client = NewKafkaClient(RD_KAFKA_PRODUCER, std::move(conf));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(FetchTopicMetadataTest, OwnsTheClustersAnswerAboutTheTopic) {
  KafkaClient client = MockClusterClient();
  ASSERT_NE(client, nullptr);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(client.get());
  ASSERT_NE(cluster, nullptr);
  ASSERT_EQ(rd_kafka_mock_topic_create(cluster, "events", 3, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  KafkaPtr<rd_kafka_topic_t> topic(rd_kafka_topic_new(client.get(), "events", nullptr));
  const KafkaMetadata metadata = FetchTopicMetadata(client.get(), topic.get(), 5000);
  ASSERT_NE(metadata, nullptr);
  ASSERT_EQ(metadata->topic_cnt, 1);
  EXPECT_EQ(metadata->topics[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(metadata->topics[0].partition_cnt, 3);
}

TEST(FetchTopicMetadataTest, IsNullWhenNoBrokerAnswers) {
  KafkaConf conf = NewKafkaConf();
  ASSERT_EQ(SetKafkaProperty(conf.get(), "bootstrap.servers", "127.0.0.1:1"), "");
  ASSERT_EQ(SetKafkaProperty(conf.get(), "log_level", "0"), "");
  absl::StatusOr<KafkaClient> client = NewKafkaClient(RD_KAFKA_PRODUCER, std::move(conf));
  ASSERT_TRUE(client.ok()) << client.status();
  KafkaPtr<rd_kafka_topic_t> topic(rd_kafka_topic_new(client->get(), "events", nullptr));
  EXPECT_EQ(FetchTopicMetadata(client->get(), topic.get(), 100), nullptr);
}

}  // namespace
}  // namespace faultline

// The Kafka alerts sink: its record (unit) and its transport against the real broker.
#include "sinks/kafka/kafka_sink.h"

#include "core/testing/kafka_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/testing/golden.h"
#include "sinks/testing/make_sink.h"

namespace faultline {
namespace {

using testing::OptionValue;

using ::testing::Pair;
using testing::SampleAlert;
using testing::SampleResolvedAlert;
using ::testing::UnorderedElementsAre;

TEST(KafkaAlertRecordTest, IsTheProtobufKeyedByFingerprintWithCloudEventsHeaders) {
  const Alert alert = SampleAlert();
  const KafkaRecord r = AlertRecord(alert, /*json=*/false, "faultline/prod");
  EXPECT_EQ(r.key, "3e8a92279cfaa532");
  Alert back;
  ASSERT_TRUE(back.ParseFromString(r.value));
  EXPECT_EQ(back.SerializeAsString(), alert.SerializeAsString());
  EXPECT_THAT(r.headers,
              UnorderedElementsAre(
                  Pair("ce_specversion", "1.0"), Pair("ce_id", "3e8a92279cfaa532-firing-1"),
                  Pair("ce_source", "faultline/prod"), Pair("ce_type", "faultline.alert.firing"),
                  Pair("ce_time", "2026-03-10T09:15:55Z"),
                  Pair("ce_subject", "EXCH01/MSExchangeOWAAppPool"),
                  Pair("content-type", "application/protobuf"),
                  Pair("ce_dataschema", "urn:faultline:proto:faultline.v1.Alert")));
}

TEST(KafkaAlertRecordTest, CarriesTheStableJsonWhenAsked) {
  const KafkaRecord r = AlertRecord(SampleResolvedAlert(), /*json=*/true, "faultline");
  EXPECT_EQ(r.value, AlertToJson(SampleResolvedAlert()));
  EXPECT_THAT(r.headers, ::testing::Contains(Pair("ce_type", "faultline.alert.resolved")));
  EXPECT_THAT(r.headers, ::testing::Contains(Pair("content-type", "application/json")));
}

std::unique_ptr<Sink> Make(std::map<std::string, OptionValue> options, SinkContext ctx = {}) {
  auto sink = testing::MakeSink("kafka", KafkaSink::Config::Schema(), &KafkaSink::Create,
                                std::move(options), ctx);
  EXPECT_TRUE(sink.ok()) << sink.status();
  return sink.ok() ? std::move(*sink) : nullptr;
}

TEST(KafkaSinkTest, PublishesAlertsThatReadBackFromTheRealBroker) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const std::string topic = testing::UniqueName("alerts");
  // The broker address from the main kafka section, as `run` passes it.
  auto sink = Make({{"topic", topic}, {"batch_size", "10"}}, SinkContext{.kafka_brokers = brokers});
  ASSERT_NE(sink, nullptr);
  const Alert firing = SampleAlert(), resolved = SampleResolvedAlert();
  const Alert* batch[] = {&firing, &resolved};
  ASSERT_TRUE(sink->Deliver(batch).ok());

  const std::vector<testing::Received> got = testing::ReadTopic(brokers, topic, 2);
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    Alert back;
    ASSERT_TRUE(back.ParseFromString(got[i].value));
    EXPECT_EQ(back.SerializeAsString(), batch[i]->SerializeAsString());
    EXPECT_EQ(got[i].key, "3e8a92279cfaa532") << "one incident, one key: one partition, in order";
  }
  EXPECT_EQ(got[0].headers.at("ce_id"), "3e8a92279cfaa532-firing-1");
  EXPECT_EQ(got[1].headers.at("ce_id"), "3e8a92279cfaa532-resolved-2");
  EXPECT_EQ(got[1].headers.at("ce_type"), "faultline.alert.resolved");
}

TEST(KafkaSinkTest, PublishesJsonWhenAsked) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const std::string topic = testing::UniqueName("alerts-json");
  auto sink = Make({{"topic", topic}, {"brokers", brokers}, {"format", "json"}});
  ASSERT_NE(sink, nullptr);
  const Alert alert = SampleAlert();
  const Alert* batch[] = {&alert};
  ASSERT_TRUE(sink->Deliver(batch).ok());
  const std::vector<testing::Received> got = testing::ReadTopic(brokers, topic, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, AlertToJson(alert));
}

TEST(KafkaSinkTest, ReportsAnUnreachableBrokerAsRetryable) {
  auto sink = Make({{"topic", "alerts"}, {"brokers", "127.0.0.1:1"}, {"timeout", "1s"}});
  ASSERT_NE(sink, nullptr);
  const Alert alert = SampleAlert();
  const Alert* batch[] = {&alert};
  const absl::Status s = sink->Deliver(batch);
  EXPECT_TRUE(IsRetryable(s)) << s;
}

TEST(KafkaSinkTest, ValidatesItsOptionsWithoutConnecting) {
  auto sink = testing::MakeSink(
      "kafka", KafkaSink::Config::Schema(), &KafkaSink::Create,
      {{"format", "avro"}, {"properties", OptionValue::Map({{"no.such.prop", "1"}})}},
      SinkContext{.dry_run = true});
  ASSERT_FALSE(sink.ok());
  const std::string m(sink.status().message());
  EXPECT_THAT(m, ::testing::HasSubstr("sinks[0].topic: required"));
  EXPECT_THAT(m, ::testing::HasSubstr("sinks[0].format: must be protobuf, json; got \"avro\""));
  // What only trying can tell comes once the entry reads well.
  auto untried = testing::MakeSink("kafka", KafkaSink::Config::Schema(), &KafkaSink::Create,
                                   {{"topic", "alerts"}}, SinkContext{.dry_run = true});
  ASSERT_FALSE(untried.ok());
  EXPECT_THAT(std::string(untried.status().message()),
              ::testing::HasSubstr("brokers: required when kafka.brokers is not set"));
  auto bad_property = testing::MakeSink(
      "kafka", KafkaSink::Config::Schema(), &KafkaSink::Create,
      {{"topic", "alerts"}, {"properties", OptionValue::Map({{"no.such.prop", "1"}})}},
      SinkContext{.kafka_brokers = "127.0.0.1:1", .dry_run = true});
  ASSERT_FALSE(bad_property.ok());
  EXPECT_THAT(std::string(bad_property.status().message()),
              ::testing::HasSubstr("sinks[0].properties: producer property no.such.prop"));
}

}  // namespace
}  // namespace faultline

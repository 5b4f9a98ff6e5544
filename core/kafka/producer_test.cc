#include "core/kafka/producer.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace faultline

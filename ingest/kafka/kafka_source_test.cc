#include "ingest/kafka/kafka_source.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

// The reasons are librdkafka 2.0.2's, against the secure broker of
// tests/security/kafka_security_test.py.
TEST(IsAuthenticationFailureTest, NamesAWrongPasswordAnUntrustedBrokerAndARefusedCertificate) {
  EXPECT_TRUE(IsAuthenticationFailure(
      RD_KAFKA_RESP_ERR__AUTHENTICATION,
      "sasl_ssl://127.0.0.1:58837/bootstrap: SASL authentication error: Authentication failed "
      "during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"));
  EXPECT_TRUE(IsAuthenticationFailure(
      RD_KAFKA_RESP_ERR__SSL,
      "sasl_ssl://127.0.0.1:58837/bootstrap: SSL handshake failed: error:0A000086:SSL "
      "routines::certificate verify failed: broker certificate could not be verified"));
  EXPECT_TRUE(IsAuthenticationFailure(
      RD_KAFKA_RESP_ERR__TRANSPORT,
      "ssl://127.0.0.1:55983/bootstrap: Receive failed: error:0A000416:SSL routines::sslv3 "
      "alert certificate unknown: SSL alert number 46 (after 0ms in state APIVERSION_QUERY)"));
}

TEST(IsAuthenticationFailureTest, LeavesABrokerThatIsDownOrUnreachableToTheRetries) {
  EXPECT_FALSE(IsAuthenticationFailure(
      RD_KAFKA_RESP_ERR__TRANSPORT,
      "127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection refused"));
  EXPECT_FALSE(
      IsAuthenticationFailure(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "1/1 brokers are down"));
  EXPECT_FALSE(IsAuthenticationFailure(
      RD_KAFKA_RESP_ERR__SSL,
      "ssl://127.0.0.1:55983/bootstrap: SSL handshake failed: error:0A000126:SSL "
      "routines::unexpected eof while reading (after 3ms in state SSL_HANDSHAKE)"))
      << "a broker restarting mid-handshake";
  EXPECT_FALSE(IsAuthenticationFailure(
      RD_KAFKA_RESP_ERR__SSL, "ssl://127.0.0.1:55983/bootstrap: SSL transport error: Broken pipe"));
  EXPECT_FALSE(IsAuthenticationFailure(RD_KAFKA_RESP_ERR__RESOLVE,
                                       "kafka-1:9092/bootstrap: Failed to resolve 'kafka-1:9092'"));
}

}  // namespace
}  // namespace faultline

#include "sinks/http/http_client.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/sink.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

TEST(RetryAfterTest, ReadsSecondsAndHttpDates) {
  const absl::Time now = absl::FromUnixSeconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), absl::ZeroDuration())
      << "a date in the past: retry now";
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
}

TEST(DeliveryStatusTest, RetriesServerErrorsTimeoutsAndRateLimitsOnly) {
  EXPECT_TRUE(DeliveryStatus(HttpResponse{.status = 200}, "p").ok());
  EXPECT_TRUE(DeliveryStatus(HttpResponse{.status = 202}, "p").ok());
  for (long code : {408, 429, 500, 502, 503, 504}) {
    const absl::Status s = DeliveryStatus(HttpResponse{.status = code}, "p");
    EXPECT_TRUE(IsRetryable(s)) << code;
  }
  for (long code : {301, 400, 401, 403, 404, 413, 422}) {
    const absl::Status s = DeliveryStatus(HttpResponse{.status = code}, "p");
    EXPECT_FALSE(s.ok()) << code;
    EXPECT_FALSE(IsRetryable(s)) << code;
  }
}

TEST(DeliveryStatusTest, CarriesRetryAfterAndNamesThePeerAndTheBody) {
  const absl::Status s = DeliveryStatus(
      HttpResponse{.status = 429, .body = "slow down\n", .retry_after = absl::Seconds(7)},
      "http://hooks:80");
  EXPECT_EQ(RetryAfter(s), absl::Seconds(7));
  EXPECT_EQ(s.message(), "HTTP 429 from http://hooks:80: slow down");
}

TEST(UrlTest, ValidatesAndNeverShowsThePathOrCredentials) {
  EXPECT_TRUE(ValidateHttpUrl("https://hooks.slack.com/services/T0/B0/SECRET").ok());
  EXPECT_FALSE(ValidateHttpUrl("ftp://example.com/").ok());
  EXPECT_FALSE(ValidateHttpUrl("hooks.slack.com").ok());
  EXPECT_EQ(UrlOrigin("https://user:pw@hooks.slack.com/services/T0/B0/SECRET?x=1"),
            "https://hooks.slack.com:443");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:9093/api"), "http://127.0.0.1:9093");
}

TEST(HttpClientTest, ReportsARefusedConnectionAsRetryableWithoutTheUrl) {
  HttpClient client(RealClock::Get(), HttpOptions{});
  // Port 1 on loopback: nothing listens there.
  const auto r = client.Post("http://127.0.0.1:1/secret-path", "{}", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsRetryable(r.status()));
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(HasSubstr("secret-path")));
}

}  // namespace
}  // namespace faultline

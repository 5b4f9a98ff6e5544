#include "sinks/retry.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

const RetryPolicy kPolicy{.backoff = absl::Seconds(1),
                          .backoff_max = absl::Seconds(60),
                          .retry_after_max = absl::Minutes(10)};

TEST(RetryWaitTest, DoublesFromTheBackoffUpToItsCeiling) {
  // jitter 1.0 gives the ceiling itself.
  EXPECT_EQ(RetryWait(kPolicy, 0, std::nullopt, 1.0), absl::Seconds(1));
  EXPECT_EQ(RetryWait(kPolicy, 1, std::nullopt, 1.0), absl::Seconds(2));
  EXPECT_EQ(RetryWait(kPolicy, 5, std::nullopt, 1.0), absl::Seconds(32));
  EXPECT_EQ(RetryWait(kPolicy, 6, std::nullopt, 1.0), absl::Seconds(60));
  EXPECT_EQ(RetryWait(kPolicy, 1000000, std::nullopt, 1.0), absl::Seconds(60)) << "no overflow";
}

TEST(RetryWaitTest, EqualJitterKeepsAtLeastHalfTheCeiling) {
  EXPECT_EQ(RetryWait(kPolicy, 3, std::nullopt, 0.0), absl::Seconds(4));
  EXPECT_EQ(RetryWait(kPolicy, 3, std::nullopt, 0.5), absl::Seconds(6));
  EXPECT_EQ(RetryWait(kPolicy, 3, std::nullopt, 7.0), absl::Seconds(8)) << "jitter clamped";
}

TEST(RetryWaitTest, HonoursRetryAfterUpToItsBoundButNeverWaitsLess) {
  EXPECT_EQ(RetryWait(kPolicy, 0, absl::Seconds(120), 0.0), absl::Seconds(120));
  EXPECT_EQ(RetryWait(kPolicy, 0, absl::Hours(5), 0.0), absl::Minutes(10));
  EXPECT_EQ(RetryWait(kPolicy, 6, absl::Seconds(1), 1.0), absl::Seconds(60))
      << "a short Retry-After does not cut the backoff";
}

}  // namespace
}  // namespace faultline

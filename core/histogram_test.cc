#include "core/histogram.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(LatencyHistogramTest, CountsEachObservationInItsBucketCumulatively) {
  LatencyHistogram h;
  h.Observe(absl::Milliseconds(3));  // <= 0.005
  h.Observe(absl::Milliseconds(5));  // <= 0.005: bounds are inclusive (Prometheus `le`)
  h.Observe(absl::Seconds(2));       // <= 2.5
  h.Observe(absl::Hours(48));        // beyond the last bound: +Inf only
  const LatencyHistogram::Snapshot s = h.Read();
  ASSERT_EQ(s.cumulative.size(), LatencyHistogram::kBounds.size() + 1);
  auto at = [&](double bound) {
    const auto* it =
        std::find(LatencyHistogram::kBounds.begin(), LatencyHistogram::kBounds.end(), bound);
    EXPECT_NE(it, LatencyHistogram::kBounds.end()) << bound;
    return s.cumulative[it - LatencyHistogram::kBounds.begin()];
  };
  EXPECT_EQ(at(0.0025), 0u) << "le=0.0025";
  EXPECT_EQ(at(0.005), 2u) << "le=0.005";
  EXPECT_EQ(at(1), 2u) << "le=1";
  EXPECT_EQ(at(2.5), 3u) << "le=2.5";
  EXPECT_EQ(s.cumulative[LatencyHistogram::kBounds.size() - 1], 3u) << "le=86400";
  EXPECT_EQ(s.cumulative.back(), 4u) << "+Inf";
  EXPECT_EQ(s.count, 4u);
  EXPECT_NEAR(s.sum_seconds, 0.008 + 2 + 48 * 3600, 1e-6);
}

TEST(SkewHistogramTest, BucketsLateAndAheadEventsWithInclusiveBounds) {
  SkewHistogram h;
  h.Observe(-2 * 3600 * int64_t{1'000'000'000});         // two hours late: le=-3600 and up
  h.Observe(0);                                          // on time: le=0 (inclusive)
  h.Observe(int64_t{1'000'000'000} * 86400 * 365 * 73);  // 2099: +Inf only
  const LatencyHistogram::Snapshot s = h.Read();
  ASSERT_EQ(s.cumulative.size(), SkewHistogram::kBounds.size() + 1);
  EXPECT_EQ(s.cumulative[0], 0u) << "le=-86400";
  EXPECT_EQ(s.cumulative[1], 1u) << "le=-3600";
  EXPECT_EQ(s.cumulative[6], 2u) << "le=0";
  EXPECT_EQ(s.cumulative[12], 2u) << "le=86400";
  EXPECT_EQ(s.cumulative.back(), 3u);
  EXPECT_NEAR(s.sum_seconds, -7200 + 86400.0 * 365 * 73, 1);
}

TEST(SkewHistogramTest, ASumOfMillionsOfFarFutureStampsStaysRight) {
  SkewHistogram h;
  const int64_t year_2099 = int64_t{2'300'000'000} * 1'000'000'000;  // 73 years ahead, in nanos
  for (int i = 0; i < 5'000'000; ++i) h.Observe(year_2099);  // an int64 of milliseconds: overflow
  EXPECT_NEAR(h.Read().sum_seconds, 2.3e9 * 5e6, 2.3e9 * 5e6 * 1e-9);
  EXPECT_EQ(h.Read().count, 5'000'000u);
}

}  // namespace
}  // namespace faultline

#include "core/unix_nanos.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(UnixNanosTest, MatchesAbseilOnEitherSideOfTheEpoch) {
  for (absl::Time t :
       {absl::UnixEpoch(), absl::FromUnixNanos(1'700'000'000'123'456'789), absl::FromUnixNanos(-1),
        absl::FromUnixNanos(-1'500'000'000'000'000'001), absl::FromUnixSeconds(4'102'444'800)}) {
    EXPECT_EQ(UnixNanos(t), absl::ToUnixNanos(t)) << t;
  }
  EXPECT_EQ(Nanos(absl::Minutes(-10)), -600'000'000'000);
}

TEST(UnixNanosTest, SaturatesInfiniteAndFarTimes) {
  EXPECT_EQ(UnixNanos(absl::InfinitePast()), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(UnixNanos(absl::InfiniteFuture()), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(UnixNanos(absl::FromUnixSeconds(int64_t{1} << 40)),
            std::numeric_limits<int64_t>::max());
}

TEST(UnixNanosTest, RoundTripsAndStopsAtTheLimits) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(FromUnixNanosOrInfinite(kMin), absl::InfinitePast());
  EXPECT_EQ(FromUnixNanosOrInfinite(kMax), absl::InfiniteFuture());
  const absl::Time t = absl::FromUnixNanos(1'700'000'000'123'456'789);
  EXPECT_EQ(FromUnixNanosOrInfinite(UnixNanos(t)), t);
  EXPECT_EQ(AddNanos(kMax - 1, 5), kMax);
  EXPECT_EQ(AddNanos(kMin, -1), kMin);
  EXPECT_EQ(AddNanos(-5, 3), -2);
  EXPECT_EQ(SubNanos(kMin, 1), kMin) << "the infinite past minus a lateness";
  EXPECT_EQ(SubNanos(1, kMin), kMax);
  EXPECT_EQ(SubNanos(10, 3), 7);
}

}  // namespace
}  // namespace faultline

#include "detect/lifecycle.h"

#include "core/strings.h"
#include "detect/window/keyed_state.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TEST(AlertStateTest, FiresOnceThenUpdatesOnlyWhenTheCountGrewAfterTheInterval) {
  AlertState s;
  using A = AlertState::Action;
  EXPECT_EQ(s.Observe(3, kT0, absl::Minutes(5)), A::kFire);
  EXPECT_EQ(s.Observe(4, kT0 + absl::Minutes(1), absl::Minutes(5)), A::kNone) << "too soon";
  EXPECT_EQ(s.Observe(4, kT0 + absl::Minutes(5), absl::Minutes(5)), A::kUpdate);
  EXPECT_EQ(s.Observe(4, kT0 + absl::Minutes(11), absl::Minutes(5)), A::kNone) << "no growth";
  EXPECT_TRUE(s.Resolve());
  EXPECT_FALSE(s.Resolve()) << "resolved once";
  EXPECT_EQ(s.Observe(1, kT0 + absl::Hours(1), absl::Minutes(5)), A::kFire) << "a new incident";
}

TEST(AlertStateTest, NumbersEachNotificationOfAnIncidentFromOne) {
  AlertState s;
  const absl::Duration renotify = absl::Minutes(5);
  s.Observe(3, kT0, renotify);
  EXPECT_EQ(s.sequence(), 1u) << "fired";
  s.Observe(4, kT0 + absl::Minutes(1), renotify);
  EXPECT_EQ(s.sequence(), 1u) << "nothing sent, nothing numbered";
  s.Observe(5, kT0 + absl::Minutes(6), renotify);
  EXPECT_EQ(s.sequence(), 2u) << "updated";
  s.Resolve();
  EXPECT_EQ(s.sequence(), 3u) << "resolved";
  s.Observe(3, kT0 + absl::Hours(1), renotify);
  EXPECT_EQ(s.sequence(), 1u) << "a new incident starts again at one";
}

struct Value {
  absl::Time last_seen;
};

TEST(KeyedStateTest, EvictsTheLeastRecentlySeenWhenFull) {
  KeyedState<Value> state(10);
  for (int i = 0; i < 10; ++i) {
    state.FindOrCreate("k" + std::to_string(i)).first->last_seen = kT0 + absl::Seconds(i);
  }
  state.Find("k0")->last_seen = kT0 + absl::Hours(1);  // k0 was just seen again
  state.FindOrCreate("new");
  EXPECT_EQ(state.evictions(), 1u);
  EXPECT_NE(state.Find("k0"), nullptr);
  EXPECT_EQ(state.Find("k1"), nullptr) << "the oldest left";
  EXPECT_EQ(state.size(), 10u);
}

TEST(GlobMatchTest, MatchesStarsAndQuestionMarksIgnoringCase) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("MSExchange*", "msexchangeOWAAppPool"));
  EXPECT_TRUE(GlobMatch("EXCH0?", "exch01"));
  EXPECT_TRUE(GlobMatch("*Pool", "DefaultAppPool"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(GlobMatch("EXCH0?", "EXCH1"));
  EXPECT_FALSE(GlobMatch("MSExchange*", "DefaultAppPool"));
  EXPECT_FALSE(GlobMatch("a*b*c", "aXXbYY"));
  // A star is a wildcard even where the text holds a star (it once matched it literally and
  // then had nothing left to match "b" with).
  EXPECT_TRUE(GlobMatch("a*", "a*b"));
  EXPECT_TRUE(GlobMatch("*?", "*x"));
}

}  // namespace
}  // namespace faultline

#include "detect/window/event_time_window.h"

#include "detect/window/composite_key.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

std::vector<int> Values(const EventTimeWindow<int>& w) {
  std::vector<int> out;
  for (const auto& e : w.entries()) out.push_back(e.value);
  return out;
}

TEST(EventTimeWindowTest, DropsEntriesOnceTheyAreAWholeWidthOlderThanTheNewest) {
  EventTimeWindow<int> w(absl::Minutes(5));
  w.Add(kT0, 1);
  w.Add(kT0 + absl::Minutes(4), 2);
  EXPECT_EQ(w.size(), 2u);
  w.Add(kT0 + absl::Minutes(5), 3);  // exactly one width after the first: the first leaves
  EXPECT_EQ(Values(w), (std::vector<int>{2, 3}));
}

TEST(EventTimeWindowTest, InsertsLateEntriesInTimeOrder) {
  EventTimeWindow<int> w(absl::Minutes(5));
  w.Add(kT0 + absl::Minutes(2), 2);
  w.Add(kT0 + absl::Minutes(1), 1);
  w.Add(kT0 + absl::Minutes(3), 3);
  EXPECT_EQ(Values(w), (std::vector<int>{1, 2, 3}));
}

TEST(EventTimeWindowTest, RefusesEntriesAlreadyOutsideTheWindow) {
  EventTimeWindow<int> w(absl::Minutes(5));
  w.Add(kT0 + absl::Minutes(10), 1);
  EXPECT_EQ(w.Add(kT0, 0), nullptr);
  EXPECT_EQ(Values(w), (std::vector<int>{1}));
}

TEST(EventTimeWindowTest, ReturnsTheStoredEntryForUpdates) {
  EventTimeWindow<int> w(absl::Minutes(5));
  int* v = w.Add(kT0, 7);
  ASSERT_NE(v, nullptr);
  *v = 8;
  EXPECT_EQ(Values(w), (std::vector<int>{8}));
}

TEST(EventTimeWindowTest, BoundsItsSizeByDroppingTheOldest) {
  EventTimeWindow<int> w(absl::Hours(1), /*max_entries=*/3);
  for (int i = 0; i < 5; ++i) w.Add(kT0 + absl::Seconds(i), i);
  EXPECT_EQ(Values(w), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(w.Add(kT0 - absl::Seconds(1), -1), nullptr) << "older than all: dropped at once";
}

TEST(EventTimeWindowTest, AdvanceToExpiresWithoutAdding) {
  EventTimeWindow<int> w(absl::Minutes(5));
  w.Add(kT0, 1);
  EXPECT_EQ(w.AdvanceTo(kT0 + absl::Minutes(6)), 1u);
  EXPECT_TRUE(w.empty());
}

TEST(CompositeKeyTest, JoinBuildsWhatOfAndThenBuild) {
  CompositeKey key;
  key.Of("WS01", "rule");
  EXPECT_EQ(key.Then("user"), CompositeKey::Join({"WS01", "rule", "user"}));
  EXPECT_EQ(CompositeKey::Join({"WS01", "rule", "user"}), "WS01\x1frule\x1fuser");
  EXPECT_EQ(CompositeKey::Join({"WS01", ""}), key.Of("WS01", ""));
  EXPECT_EQ(CompositeKey::First(key.Of("WS01", "W3SVC")), "WS01");
  EXPECT_EQ(CompositeKey::Second(key.last()), "W3SVC");
}

TEST(CompositeKeyTest, ItemsOfAListNameNeverRunIntoEachOther) {
  CompositeKey key;
  key.Of("WS01", "rule");
  key.Then("");
  key.AddItem("x");
  const std::string two = key.AddItem("y");
  EXPECT_EQ(two, "WS01\x1frule\x1fx\x1ey\x1e");
  EXPECT_EQ(CompositeKey::First(two), "WS01");
  key.Of("WS01", "rule");
  key.Then("");
  EXPECT_NE(key.AddItem("xy"), two);
  key.Of("WS01", "rule");
  const std::string none = key.Then("");
  EXPECT_NE(key.AddItem(""), none);  // an empty value is still a value
}

}  // namespace
}  // namespace faultline

#include "ingest/kafka/offset_tracker.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

std::shared_ptr<DeliveryTicket> InFlight() {
  auto t = std::make_shared<DeliveryTicket>();
  t->Expect(1);
  return t;
}

TEST(OffsetTrackerTest, CommitsTheOffsetAfterTheLastProcessedMessage) {
  OffsetTracker t;
  t.MarkProcessed("events", 0, 41);
  t.MarkProcessed("events", 0, 42);
  const auto dirty = t.TakeDirty();
  ASSERT_EQ(dirty.size(), 1u);
  EXPECT_EQ(dirty[0].offset, 43);
  EXPECT_TRUE(t.TakeDirty().empty()) << "nothing changed since";
}

TEST(OffsetTrackerTest, KeepsPartitionsAndTopicsApart) {
  OffsetTracker t;
  t.MarkProcessed("a", 0, 5);
  t.MarkProcessed("a", 1, 7);
  t.MarkProcessed("b", 0, 9);
  const auto dirty = t.TakeDirty();
  ASSERT_EQ(dirty.size(), 3u);
  EXPECT_EQ(dirty[0].offset, 6);
  EXPECT_EQ(dirty[1].offset, 8);
  EXPECT_EQ(dirty[2].offset, 10);
}

TEST(OffsetTrackerTest, NeverMovesBackwards) {
  OffsetTracker t;
  t.MarkProcessed("a", 0, 10);
  t.TakeDirty();
  t.MarkProcessed("a", 0, 3);  // a redelivered older message
  EXPECT_TRUE(t.TakeDirty().empty());
}

TEST(OffsetTrackerTest, RestoresAFailedCommitOnlyForPartitionsStillHeld) {
  OffsetTracker t;
  t.MarkProcessed("a", 0, 10);
  t.MarkProcessed("a", 1, 20);
  const auto failed = t.TakeDirty();
  t.Forget("a", 1);  // revoked meanwhile
  t.Restore(failed);
  const auto retry = t.TakeDirty();
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].partition, 0);
  EXPECT_EQ(retry[0].offset, 11);
}

TEST(OffsetTrackerTest, HoldsTheCommitAtAMessageWhoseAlertsAreNotDelivered) {
  OffsetTracker t;
  t.MarkProcessed("a", 0, 10);
  auto alert_at_11 = InFlight();
  t.MarkProcessed("a", 0, 11, alert_at_11);
  auto alert_at_14 = InFlight();
  t.MarkProcessed("a", 0, 12);
  t.MarkProcessed("a", 0, 13);
  t.MarkProcessed("a", 0, 14, alert_at_14);
  t.MarkProcessed("a", 0, 15);
  auto commit = t.TakeDirty();
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(commit[0].offset, 11) << "a restart reads message 11 again";

  alert_at_14->Done();  // delivered out of order: 11 still holds the commit
  EXPECT_TRUE(t.TakeDirty().empty());
  alert_at_11->Done();
  commit = t.TakeDirty();
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(commit[0].offset, 16) << "everything delivered: past the last processed message";
}

TEST(OffsetTrackerTest, CommitsTheTimestampOfWhereARestartBegins) {
  OffsetTracker t;
  t.MarkProcessed("a", 0, 10, nullptr, 1000);
  auto alert_at_11 = InFlight();
  t.MarkProcessed("a", 0, 11, alert_at_11, 1100);
  t.MarkProcessed("a", 0, 12, nullptr, 1200);
  auto commit = t.TakeDirty();
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(commit[0].offset, 11);
  EXPECT_EQ(commit[0].timestamp_ms, 1100) << "the held message's own time";
  alert_at_11->Done();
  commit = t.TakeDirty();
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(commit[0].offset, 13);
  EXPECT_EQ(commit[0].timestamp_ms, 1200) << "the last processed message's time";
}

TEST(OffsetTrackerTest, ADeliveryOfARestoreHoldsTheCommitAtTheCommittedPosition) {
  OffsetTracker t;
  auto fleet_alert = InFlight();  // raised while messages before offset 20 were read again
  t.Hold("a", 0, 20, 2000, fleet_alert);
  t.MarkProcessed("a", 0, 20, nullptr, 2000);
  t.MarkProcessed("a", 0, 21, nullptr, 2100);
  auto commit = t.TakeDirty();
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(commit[0].offset, 20) << "not past the restore while its alert is on its way";
  fleet_alert->Done();
  commit = t.TakeDirty();
  ASSERT_EQ(commit.size(), 1u);
  EXPECT_EQ(commit[0].offset, 22);
}

TEST(OffsetTrackerTest, ReportsPositionsWithDeliveriesInFlight) {
  OffsetTracker t;
  auto held = InFlight();
  t.MarkProcessed("a", 3, 7, held);
  t.MarkProcessed("a", 3, 8, std::make_shared<DeliveryTicket>());  // nothing expected: done
  t.TakeDirty();
  const auto positions = t.Positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].processed, 9);
  EXPECT_EQ(positions[0].committed, 7);
  EXPECT_EQ(positions[0].in_flight, 1u);
}

}  // namespace
}  // namespace faultline

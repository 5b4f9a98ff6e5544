#include "ingest/kafka/offset_tracker.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(OffsetTrackerTest, CommitsTheOffsetAfterTheLastProcessedMessage) {
  OffsetTracker t;
  t.MarkProcessed("events", 0, 41);
  t.MarkProcessed("events", 0, 42);
  const auto dirty = t.TakeDirty();
  ASSERT_EQ(dirty.size(), 1u);
  EXPECT_EQ(dirty[0].next_offset, 43);
  EXPECT_TRUE(t.TakeDirty().empty()) << "nothing changed since";
}

TEST(OffsetTrackerTest, KeepsPartitionsAndTopicsApart) {
  OffsetTracker t;
  t.MarkProcessed("a", 0, 5);
  t.MarkProcessed("a", 1, 7);
  t.MarkProcessed("b", 0, 9);
  const auto dirty = t.TakeDirty();
  ASSERT_EQ(dirty.size(), 3u);
  EXPECT_EQ(dirty[0].next_offset, 6);
  EXPECT_EQ(dirty[1].next_offset, 8);
  EXPECT_EQ(dirty[2].next_offset, 10);
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
  EXPECT_EQ(retry[0].next_offset, 11);
}

}  // namespace
}  // namespace faultline

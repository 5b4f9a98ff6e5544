#include "ingest/kafka/dead_letter_producer.h"

#include "core/clock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(DeadLetterProducerTest, HoldsTheTicketAndRetriesWhileTheTopicIsUnreachable) {
  // Nothing listens on port 1: every attempt times out after 200 ms, a failure a retry can fix.
  auto dlq = DeadLetterProducer::Create("127.0.0.1:1", "dead-letters",
                                        {{"message.timeout.ms", "200"}, {"log_level", "0"}});
  ASSERT_TRUE(dlq.ok()) << dlq.status();
  auto ticket = std::make_shared<DeliveryTicket>();
  (*dlq)->Publish(Message{.payload = "not json", .origin = {.partition = 0, .offset = 7}},
                  ParseError::kNotJson, ticket);
  for (int i = 0; i < 30 && (*dlq)->stats().retried.load() < 2; ++i) {
    RealClock::Get().SleepFor(absl::Milliseconds(100));
    (*dlq)->Poll();
  }
  EXPECT_GE((*dlq)->stats().retried.load(), 2u) << "produced again after each timeout";
  EXPECT_FALSE(ticket->done()) << "the rejected message is not committed without its dead letter";
  EXPECT_EQ((*dlq)->stats().delivered.load(), 0u);
  EXPECT_EQ((*dlq)->stats().dropped.load(), 0u);
  EXPECT_FALSE((*dlq)->Flush(absl::Milliseconds(300)).ok());
}

}  // namespace
}  // namespace faultline

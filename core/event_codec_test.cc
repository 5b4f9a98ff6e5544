#include "core/event_codec.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

Event FullEvent() {
  Event e;
  e.time = absl::FromUnixMicros(1'700'000'000'123'456);
  e.host = "WEB07.corp.example";
  e.provider_name = "Microsoft-Windows-WAS";
  e.provider = Provider::kWas;
  e.channel = "System";
  e.event_id = 5002;
  e.level = 2;
  e.record_id = 18'446'744'073'709'551'000u;
  e.app_pool = "Checkout Pool";
  e.pid = 4242;
  e.exit_code = 0xC0000005;
  e.exception_code = 0xE0434352;
  e.service = "W3SVC";
  e.occurrences = 3;
  e.faulting_app = "w3wp.exe";
  e.faulting_module = "clr.dll";
  e.detail = "Faulting module: clr.dll";
  return e;
}

void ExpectSameEvent(const Event& a, const Event& b) {
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.provider_name, b.provider_name);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.record_id, b.record_id);
  EXPECT_EQ(a.app_pool, b.app_pool);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.exception_code, b.exception_code);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.occurrences, b.occurrences);
  EXPECT_EQ(a.faulting_app, b.faulting_app);
  EXPECT_EQ(a.faulting_module, b.faulting_module);
  EXPECT_EQ(a.detail, b.detail);
}

TEST(EventCodecTest, RoundTripsEveryFieldTheDetectorsRead) {
  EventCodec codec;
  std::string bytes;
  codec.Encode(FullEvent(), &bytes);
  Event back;
  ASSERT_TRUE(codec.Decode(bytes, &back));
  ExpectSameEvent(back, FullEvent());
}

TEST(EventCodecTest, KeepsAnExitCodeOfZeroApartFromNoExitCode) {
  EventCodec codec;
  std::string bytes;
  Event e = FullEvent();
  e.exit_code = 0;  // a clean exit is not "unknown"
  e.exception_code.reset();
  codec.Encode(e, &bytes);
  Event back;
  ASSERT_TRUE(codec.Decode(bytes, &back));
  EXPECT_EQ(back.exit_code, std::optional<uint32_t>(0));
  EXPECT_EQ(back.exception_code, std::nullopt);
}

TEST(EventCodecTest, LeavesWhatTheReaderDerivesToTheReader) {
  EventCodec codec;
  Event e = FullEvent();
  e.origin = {.partition = 3, .offset = 99, .broker_time = absl::FromUnixSeconds(5)};
  e.arrival = absl::FromUnixSeconds(6);
  e.host_clock = 7;
  std::string bytes;
  codec.Encode(e, &bytes);
  Event back;
  back.origin.partition = 11;  // whatever the reused event held is cleared
  ASSERT_TRUE(codec.Decode(bytes, &back));
  EXPECT_EQ(back.origin.partition, -1);
  EXPECT_EQ(back.arrival, absl::InfinitePast());
  EXPECT_EQ(back.host_clock, 0u);
}

TEST(EventCodecTest, APoolTopicRecordCarriesWhereItWasReadAndAHeartbeatTheClock) {
  EventCodec codec;
  Event e = FullEvent();
  e.origin = {.partition = 0, .offset = 99, .broker_time = absl::FromUnixSeconds(5)};
  std::string bytes;
  codec.EncodeWithOrigin(e, &bytes);
  Event back;
  int64_t end = 5;
  ASSERT_TRUE(codec.Decode(bytes, &back, &end));
  EXPECT_EQ(back.origin.partition, 0) << "partition 0 is a partition, not none";
  EXPECT_EQ(back.origin.broker_time, absl::FromUnixSeconds(5));
  EXPECT_EQ(back.host, e.host);
  EXPECT_EQ(end, -1) << "an event is no end";

  codec.EncodeHeartbeat(7, absl::FromUnixSeconds(9), /*end=*/-1, &bytes);
  ASSERT_TRUE(codec.Decode(bytes, &back, &end));
  EXPECT_TRUE(back.host.empty());
  EXPECT_EQ(back.origin.partition, 7);
  EXPECT_EQ(back.origin.broker_time, absl::FromUnixSeconds(9));
  EXPECT_EQ(end, -1);

  codec.EncodeHeartbeat(7, absl::FromUnixSeconds(9), /*end=*/0, &bytes);
  ASSERT_TRUE(codec.Decode(bytes, &back, &end));
  EXPECT_EQ(end, 0) << "an empty partition's end is offset 0, not none";
  codec.EncodeHeartbeat(7, absl::FromUnixSeconds(9), /*end=*/1234, &bytes);
  ASSERT_TRUE(codec.Decode(bytes, &back, &end));
  EXPECT_EQ(end, 1234);
}

TEST(EventCodecTest, ClassifiesTheProviderFromItsName) {
  EventCodec codec;
  Event e = FullEvent();
  e.provider_name = "Service Control Manager";
  e.provider = Provider::kOther;  // as a producer might leave it: the name is what counts
  std::string bytes;
  codec.Encode(e, &bytes);
  Event back;
  ASSERT_TRUE(codec.Decode(bytes, &back));
  EXPECT_EQ(back.provider, Provider::kServiceControlManager);
}

TEST(EventCodecTest, RefusesBytesThatAreNotAnEvent) {
  EventCodec codec;
  Event back;
  EXPECT_FALSE(codec.Decode(R"({"winlog":{"event_id":5002}})", &back));
  EXPECT_FALSE(codec.Decode(std::string("\x0a\x7f\x01", 3), &back));  // a length past the end
  std::string bytes;
  codec.Encode(FullEvent(), &bytes);
  EXPECT_FALSE(codec.Decode(std::string_view(bytes).substr(0, bytes.size() - 3), &back));
  // The codec stays usable after a refusal.
  ASSERT_TRUE(codec.Decode(bytes, &back));
  EXPECT_EQ(back.host, "WEB07.corp.example");
}

}  // namespace
}  // namespace faultline

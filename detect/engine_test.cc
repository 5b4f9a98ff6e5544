#include "detect/engine.h"

#include <algorithm>

#include "detect/testing/collecting_output.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

class CountingDetector final : public Detector {
 public:
  explicit CountingDetector(std::vector<EventKey> keys) : keys_(std::move(keys)) {}
  std::string_view name() const override { return "counting"; }
  std::vector<EventKey> Subscriptions() const override { return keys_; }
  void OnEvent(const Event& event, AlertOutput&) override { seen.push_back(event.event_id); }
  void OnWatermark(absl::Time watermark, AlertOutput&) override { watermarks.push_back(watermark); }
  Stats stats() const override { return {}; }
  std::vector<uint32_t> seen;
  std::vector<absl::Time> watermarks;

 private:
  std::vector<EventKey> keys_;
};

Event MakeEvent(Provider p, uint32_t id) {
  Event e;
  e.provider = p;
  e.event_id = id;
  return e;
}

TEST(EngineTest, RoutesOnlySubscribedProviderAndIdPairs) {
  auto was = std::make_unique<CountingDetector>(std::vector<EventKey>{{Provider::kWas, 5002}});
  auto both = std::make_unique<CountingDetector>(
      std::vector<EventKey>{{Provider::kWas, 5002}, {Provider::kW3svc, 1002}});
  CountingDetector* was_ptr = was.get();
  CountingDetector* both_ptr = both.get();
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(std::move(was));
  detectors.push_back(std::move(both));
  Engine engine(std::move(detectors));
  CollectingOutput out;
  engine.Process(MakeEvent(Provider::kWas, 5002), out);
  engine.Process(MakeEvent(Provider::kW3svc, 1002), out);
  engine.Process(MakeEvent(Provider::kW3svc, 5002), out);  // right id, wrong provider
  engine.Process(MakeEvent(Provider::kOther, 5002), out);
  EXPECT_EQ(was_ptr->seen, (std::vector<uint32_t>{5002}));
  EXPECT_EQ(both_ptr->seen, (std::vector<uint32_t>{5002, 1002}));
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

std::unique_ptr<Engine> CountingEngine(CountingDetector** out, absl::Duration window) {
  auto d = std::make_unique<CountingDetector>(std::vector<EventKey>{{Provider::kWas, 5011}});
  *out = d.get();
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(std::move(d));
  return std::make_unique<Engine>(std::move(detectors), EngineOptions{.dedupe_window = window});
}

Event Record(uint64_t record, absl::Duration at, std::string host = "h") {
  Event e = MakeEvent(Provider::kWas, 5011);
  e.host = std::move(host);
  e.channel = "System";
  e.record_id = record;
  e.time = absl::FromUnixSeconds(1'700'000'000) + at;
  return e;
}

TEST(EngineDedupeTest, DropsARecordSeenAgainWithinTheWindow) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, absl::Minutes(10));
  CollectingOutput out;
  engine->Process(Record(1, absl::Seconds(0)), out);
  engine->Process(Record(1, absl::Seconds(5)), out);  // redelivered
  engine->Process(Record(2, absl::Seconds(6)), out);
  engine->Process(Record(1, absl::Seconds(7), "other-host"), out);
  EXPECT_EQ(d->seen.size(), 3u);
  EXPECT_EQ(engine->duplicates(), 1u);
}

TEST(EngineDedupeTest, ForgetsRecordsOlderThanTheWindow) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, absl::Minutes(10));
  CollectingOutput out;
  for (int i = 0; i < 1000; ++i) engine->Process(Record(i + 1, absl::Minutes(i)), out);
  EXPECT_LE(engine->remembered_records(), 12u) << "bounded by the window, not the stream";
  engine->Process(Record(1, absl::Minutes(1000)), out);  // a record id reused much later
  EXPECT_EQ(d->seen.size(), 1001u);
  EXPECT_EQ(engine->duplicates(), 0u);
}

TEST(EngineLatenessTest, CountsLateEventsInsideTheAllowanceAndDropsLaterOnes) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, absl::Minutes(10));  // allowed lateness: 2 minutes (default)
  CollectingOutput out;
  engine->Process(Record(1, absl::Minutes(10)), out);
  engine->Process(Record(2, absl::Minutes(8)), out);                     // 2 min late: in
  engine->Process(Record(3, absl::Minutes(8) - absl::Seconds(1)), out);  // beyond: dropped
  EXPECT_EQ(d->seen.size(), 2u);
  EXPECT_EQ(engine->too_late(), 1u);
}

TEST(EngineLatenessTest, DropsEventsBehindTheWatermarkDetectorsAlreadySaw) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, absl::Minutes(10));
  CollectingOutput out;
  Event ahead = Record(1, absl::Hours(1));
  ahead.origin.partition = 0;
  engine->Process(ahead, out);  // detectors now saw the watermark 58 minutes in
  Event behind = Record(2, absl::Minutes(0));
  behind.origin.partition = 1;  // a partition lagging the others: its incidents may be closed
  engine->Process(behind, out);
  EXPECT_EQ(d->seen.size(), 1u);
  EXPECT_EQ(engine->too_late(), 1u);
  Event close_behind = Record(3, absl::Hours(1) - absl::Minutes(1));
  close_behind.origin.partition = 1;  // within the allowance of the watermark: fine
  engine->Process(close_behind, out);
  EXPECT_EQ(d->seen.size(), 2u);
}

TEST(EngineLatenessTest, TellsDetectorsTheWatermarkAsEventTimeAdvances) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, absl::Minutes(10));
  CollectingOutput out;
  for (int s = 0; s <= 120; s += 5) engine->Process(Record(s + 1, absl::Seconds(s)), out);
  ASSERT_GE(d->watermarks.size(), 4u);  // a tick every 30 s of event time
  EXPECT_LE(d->watermarks.size(), 6u);
  EXPECT_EQ(d->watermarks.back(),
            absl::FromUnixSeconds(1'700'000'000) + absl::Seconds(120) - absl::Minutes(2));
  EXPECT_TRUE(std::is_sorted(d->watermarks.begin(), d->watermarks.end()));
}

TEST(EngineDedupeTest, NeverDropsEventsWithoutARecordId) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, absl::Minutes(10));
  CollectingOutput out;
  engine->Process(Record(0, absl::Seconds(0)), out);
  engine->Process(Record(0, absl::Seconds(0)), out);
  EXPECT_EQ(d->seen.size(), 2u);
}

}  // namespace
}  // namespace faultline

#include "detect/engine.h"

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
  std::vector<uint32_t> seen;

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
  return std::make_unique<Engine>(std::move(detectors), window);
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

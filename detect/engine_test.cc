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

// The input's half of the detectors keyed by application pool (the fleet detector), Kafka
// Streams' repartition: with ingest.pool_topic set they do not run in the engine of the input,
// whose partitions hold only some hosts of each pool; this stands in for them there. It
// subscribes to what they subscribe to, so the engine hands it each of their events routed,
// deduplicated, on time and with its host's clock offset taken off, and it passes the event to
// `forward`, which publishes it to the pool topic keyed by PoolKey(). The detectors themselves
// run in a second engine reading that topic (app/pipeline.h), which therefore sees every pool's
// failures from every instance, each pool in one place.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "detect/detector.h"

namespace faultline {

// The pool topic's record key, and the fleet detector's state key: the pool name lowercased, as
// IIS compares pool names.
void PoolKey(std::string_view app_pool, std::string* key);

class PoolForward final : public Detector {
 public:
  using Forward = std::function<void(const Event&)>;
  // Stands in for `detectors` (those whose state_key() is kAppPool).
  explicit PoolForward(const std::vector<std::unique_ptr<Detector>>& detectors);
  // Where the events go; until it is connected they go nowhere.
  void Connect(Forward forward) { forward_ = std::move(forward); }

  std::string_view name() const override { return "pool_forward"; }
  std::vector<EventKey> Subscriptions() const override { return subscriptions_; }
  void OnEvent(const Event& event, AlertOutput& out) override;
  void OnWatermark(const Watermarks& /*watermarks*/, AlertOutput& /*out*/) override {}
  absl::Duration horizon() const override { return absl::ZeroDuration(); }
  Stats stats() const override { return {}; }

 private:
  std::vector<EventKey> subscriptions_;
  Forward forward_;
};

}  // namespace faultline

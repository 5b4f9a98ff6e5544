#include "detect/engine.h"

namespace faultline {

Engine::Engine(std::vector<std::unique_ptr<Detector>> detectors)
    : detectors_(std::move(detectors)) {
  for (const auto& d : detectors_) {
    for (const EventKey& key : d->Subscriptions()) {
      routes_[RouteKey(key.provider, key.event_id)].push_back(d.get());
    }
  }
}

void Engine::Process(const Event& event, AlertOutput& out) {
  auto it = routes_.find(RouteKey(event.provider, event.event_id));
  if (it == routes_.end()) return;
  for (Detector* d : it->second) d->OnEvent(event, out);
}

}  // namespace faultline

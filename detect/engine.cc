#include "detect/engine.h"

#include <tuple>

#include "absl/hash/hash.h"

namespace faultline {

Engine::Engine(std::vector<std::unique_ptr<Detector>> detectors, absl::Duration dedupe_window)
    : detectors_(std::move(detectors)), dedupe_window_(dedupe_window) {
  for (const auto& d : detectors_) {
    for (const EventKey& key : d->Subscriptions()) {
      routes_[RouteKey(key.provider, key.event_id)].push_back(d.get());
    }
  }
}

void Engine::Process(const Event& event, AlertOutput& out) {
  auto it = routes_.find(RouteKey(event.provider, event.event_id));
  if (it == routes_.end()) return;
  if (IsRepeat(event)) {
    ++duplicates_;
    return;
  }
  for (Detector* d : it->second) d->OnEvent(event, out);
}

bool Engine::IsRepeat(const Event& event) {
  if (event.record_id == 0 || dedupe_window_ <= absl::ZeroDuration()) return false;
  const uint64_t key = absl::Hash<std::tuple<absl::string_view, absl::string_view, uint64_t>>{}(
      {event.host, event.channel, event.record_id});
  if (auto it = seen_.find(key); it != seen_.end()) {
    if (absl::AbsDuration(event.time - it->second) <= dedupe_window_) return true;
    it->second = event.time;
  } else {
    seen_.emplace(key, event.time);
  }
  seen_order_.emplace_back(event.time, key);
  newest_ = std::max(newest_, event.time);
  while (!seen_order_.empty() && seen_order_.front().first < newest_ - dedupe_window_) {
    auto [time, old] = seen_order_.front();
    seen_order_.pop_front();
    if (auto it = seen_.find(old); it != seen_.end() && it->second == time) seen_.erase(it);
  }
  return false;
}

}  // namespace faultline

#include "detect/engine.h"

#include <tuple>

#include "absl/hash/hash.h"

namespace faultline {

Engine::Engine(std::vector<std::unique_ptr<Detector>> detectors, EngineOptions options)
    : detectors_(std::move(detectors)), options_(options) {
  for (const auto& d : detectors_) {
    for (const EventKey& key : d->Subscriptions()) {
      routes_[RouteKey(key.provider, key.event_id)].push_back(d.get());
    }
  }
}

absl::Time& Engine::PartitionTime(int32_t partition) {
  const size_t index = partition < 0 ? 0 : static_cast<size_t>(partition) + 1;
  if (index >= partition_time_.size()) partition_time_.resize(index + 1, absl::InfinitePast());
  return partition_time_[index];
}

void Engine::Process(const Event& event, AlertOutput& out) {
  absl::Time& partition_newest = PartitionTime(event.origin.partition);
  const bool too_late = event.time < partition_newest - options_.allowed_lateness ||
                        event.time < delivered_watermark_;
  if (event.time > partition_newest) partition_newest = event.time;

  auto it = routes_.find(RouteKey(event.provider, event.event_id));
  if (it != routes_.end()) {
    if (too_late) {
      ++too_late_;
    } else if (IsRepeat(event)) {
      ++duplicates_;
    } else {
      for (Detector* d : it->second) d->OnEvent(event, out);
    }
  }

  if (event.time > newest_) newest_ = event.time;
  const absl::Time watermark = newest_ - options_.allowed_lateness;
  if (watermark >= next_tick_) {
    for (const auto& d : detectors_) d->OnWatermark(watermark, out);
    delivered_watermark_ = watermark;
    next_tick_ = watermark + options_.tick;
  }
}

bool Engine::IsRepeat(const Event& event) {
  if (event.record_id == 0 || options_.dedupe_window <= absl::ZeroDuration()) return false;
  const uint64_t key = absl::Hash<std::tuple<absl::string_view, absl::string_view, uint64_t>>{}(
      {event.host, event.channel, event.record_id});
  if (auto it = seen_.find(key); it != seen_.end()) {
    if (absl::AbsDuration(event.time - it->second) <= options_.dedupe_window) return true;
    it->second = event.time;
  } else {
    seen_.emplace(key, event.time);
  }
  seen_order_.emplace_back(event.time, key);
  while (!seen_order_.empty() && seen_order_.front().first < newest_ - options_.dedupe_window) {
    auto [time, old] = seen_order_.front();
    seen_order_.pop_front();
    if (auto found = seen_.find(old); found != seen_.end() && found->second == time) {
      seen_.erase(found);
    }
  }
  return false;
}

}  // namespace faultline

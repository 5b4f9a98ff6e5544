#include "detect/pool_forward.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "core/strings.h"

namespace faultline {

void PoolKey(std::string_view app_pool, std::string* key) {
  key->assign(app_pool);
  absl::AsciiStrToLower(key);
}

PoolForward::PoolForward(const std::vector<std::unique_ptr<Detector>>& detectors) {
  for (const auto& d : detectors) {
    for (const EventKey& k : d->Subscriptions()) {
      // Each event once, however many of them want it.
      const bool known = std::any_of(subscriptions_.begin(), subscriptions_.end(), [&](auto& s) {
        return s.provider == k.provider && s.event_id == k.event_id;
      });
      if (!known) subscriptions_.push_back(k);
    }
  }
}

void PoolForward::OnEvent(const Event& event, AlertOutput& /*out*/) {
  if (!event.app_pool.empty() && forward_) forward_(event);
}

}  // namespace faultline

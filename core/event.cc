#include "core/event.h"

namespace faultline {

void Event::Clear() {
  time = absl::InfinitePast();
  host.clear();
  provider_name.clear();
  provider = Provider::kOther;
  channel.clear();
  event_id = 0;
  level = 0;
  record_id = 0;
  app_pool.clear();
  pid = 0;
  exit_code.reset();
  exception_code.reset();
  service.clear();
  occurrences = 0;
  faulting_app.clear();
  faulting_module.clear();
  detail.clear();
  data.Clear();
  origin = Origin{};
  arrival = absl::InfinitePast();
  host_clock = 0;
}

}  // namespace faultline

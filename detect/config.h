// Detection settings as plain validated structs (app/config.cc fills them from YAML). Each
// detector plugin has its own section here.
#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"

namespace faultline {

// IIS rapid-fail protection as configured in applicationHost.config <failure>, and the three
// rules faultline derives from it. Defaults are IIS's: 5 failures in 5 minutes.
struct RapidFailConfig {
  int max_crashes = 5;                         // rapidFailProtectionMaxCrashes
  absl::Duration interval = absl::Minutes(5);  // rapidFailProtectionInterval
  int burst_threshold = 3;                     // iis_worker_failure_burst fires at this count
  // How far apart an Application Error 1000 for w3wp.exe and the WAS event of the same worker
  // pid may be and still count as one failure.
  absl::Duration correlation_window = absl::Minutes(2);
  bool burst_enabled = true;
  bool imminent_enabled = true;
  bool disabled_enabled = true;
};

struct DetectConfig {
  // A record (host, channel, record id) seen again within this window is dropped as a
  // forwarder redelivery; 0 disables.
  absl::Duration dedupe_window = absl::Minutes(10);
  RapidFailConfig iis_rapid_fail;
  // Added to every alert's labels (team, environment, ...).
  std::map<std::string, std::string> labels;
};

}  // namespace faultline

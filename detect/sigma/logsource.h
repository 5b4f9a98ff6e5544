// Sigma's Windows logsources as event log channels and event ids: `service` names a channel
// (pySigma's windows pipeline table), `category` a Sysmon event id or a PowerShell event (pySigma's
// sysmon pipeline). Others (ETW categories such as file_access) have no event log to read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::sigma {

struct LogsourceRoute {
  std::vector<std::string> channels;  // as Windows names them
  std::vector<uint32_t> event_ids;    // empty: any
};

// False if faultline knows no channel for it.
bool ServiceRoute(std::string_view service, LogsourceRoute* out);
bool CategoryRoute(std::string_view category, LogsourceRoute* out);

}  // namespace faultline::sigma

#include "core/windows_events.h"

#include <array>
#include <utility>

#include "core/strings.h"

namespace faultline {
namespace {

constexpr std::array<std::pair<std::string_view, Provider>, 8> kAliases = {{
    {"Microsoft-Windows-WAS", Provider::kWas},
    {"WAS", Provider::kWas},
    {"W3SVC", Provider::kW3svc},
    {"Microsoft-Windows-IIS-W3SVC", Provider::kW3svc},
    {"Application Error", Provider::kApplicationError},
    {"Windows Error Reporting", Provider::kWindowsErrorReporting},
    {"Service Control Manager", Provider::kServiceControlManager},
    {"Microsoft-Windows-Service Control Manager", Provider::kServiceControlManager},
}};

}  // namespace

Provider ClassifyProvider(std::string_view name) {
  for (const auto& [alias, provider] : kAliases) {
    if (EqualsIgnoreCase(name, alias)) return provider;
  }
  return Provider::kOther;
}

std::string_view ProviderName(Provider provider) {
  switch (provider) {
    case Provider::kWas:
      return "Microsoft-Windows-WAS";
    case Provider::kW3svc:
      return "W3SVC";
    case Provider::kApplicationError:
      return "Application Error";
    case Provider::kWindowsErrorReporting:
      return "Windows Error Reporting";
    case Provider::kServiceControlManager:
      return "Service Control Manager";
    case Provider::kOther:
      break;
  }
  return "other";
}

}  // namespace faultline

#include "core/windows_events.h"

#include <array>
#include <utility>

#include "core/strings.h"

namespace faultline {
namespace {

constexpr std::array<std::pair<std::string_view, Provider>, 14> kAliases = {{
    {"Microsoft-Windows-WAS", Provider::kWas},
    {"WAS", Provider::kWas},
    {"W3SVC", Provider::kW3svc},
    {"Microsoft-Windows-IIS-W3SVC", Provider::kW3svc},
    {"Application Error", Provider::kApplicationError},
    {"Windows Error Reporting", Provider::kWindowsErrorReporting},
    {"Service Control Manager", Provider::kServiceControlManager},
    {"Microsoft-Windows-Service Control Manager", Provider::kServiceControlManager},
    {".NET Runtime", Provider::kDotNetRuntime},
    {"Microsoft-Windows-IIS-W3SVC-WP", Provider::kIisWorkerProcess},
    {"W3SVC-WP", Provider::kIisWorkerProcess},
    {"IMAP4SVC", Provider::kImap4},
    {"MSExchangeIMAP4", Provider::kImap4},
    {"ASP.NET", Provider::kAspNet},  // also "ASP.NET 4.0.30319.0": matched by prefix below
}};

}  // namespace

Provider ClassifyProvider(std::string_view name) {
  for (const auto& [alias, provider] : kAliases) {
    if (EqualsIgnoreCase(name, alias)) return provider;
  }
  if (name.size() > 8 && EqualsIgnoreCase(name.substr(0, 8), "ASP.NET ")) return Provider::kAspNet;
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
    case Provider::kDotNetRuntime:
      return ".NET Runtime";
    case Provider::kAspNet:
      return "ASP.NET";
    case Provider::kIisWorkerProcess:
      return "Microsoft-Windows-IIS-W3SVC-WP";
    case Provider::kImap4:
      return "IMAP4SVC";
    case Provider::kOther:
      break;
  }
  return "other";
}

}  // namespace faultline

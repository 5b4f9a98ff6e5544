#include "core/windows_events.h"

#include <array>
#include <utility>

#include "core/strings.h"

namespace faultline {
namespace {

// Every spelling of each provider faultline routes on; the first of each is its canonical name.
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
  // The first alias of each provider in kAliases is its canonical name.
  for (const auto& [alias, p] : kAliases) {
    if (p == provider) return alias;
  }
  return "other";
}

}  // namespace faultline

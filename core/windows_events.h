// Names for the Windows providers and event ids faultline understands. Facts and sources:
// ../shared/docs/windows-events.md. Provider names vary by forwarder and OS version ("WAS" vs
// "Microsoft-Windows-WAS"), so parsers map them to a Provider once and detectors route on it.
#pragma once

#include <cstdint>
#include <string_view>

namespace faultline {

enum class Provider : uint8_t {
  kOther = 0,
  kWas,               // Microsoft-Windows-WAS / WAS (IIS 7+)
  kW3svc,             // W3SVC (IIS 6)
  kApplicationError,  // Application Error (faulting application, event 1000)
  kWindowsErrorReporting,
  kServiceControlManager,
  // Companions: seen beside worker crashes, attached to incidents as context.
  kDotNetRuntime,     // .NET Runtime 1026 (unhandled exception)
  kAspNet,            // ASP.NET 1309 (unhandled exception); the provider name carries a version
  kIisWorkerProcess,  // Microsoft-Windows-IIS-W3SVC-WP 2280/2282 (module DLL failed to load)
  kImap4,             // IMAP4SVC 1036 (Exchange IMAP4 instance failed to start)
};

// Maps a provider or legacy source name to a Provider; unknown names are kOther.
Provider ClassifyProvider(std::string_view name);
std::string_view ProviderName(Provider provider);

// WAS (System log).
inline constexpr uint32_t kWasAppPoolDisabled = 5002;
inline constexpr uint32_t kWasWorkerTerminated = 5009;
inline constexpr uint32_t kWasWorkerPingFailed = 5010;
inline constexpr uint32_t kWasWorkerCommunicationError = 5011;
inline constexpr uint32_t kWasWorkerStartupTimeLimit = 5012;
inline constexpr uint32_t kWasWorkerShutdownTimeLimit = 5013;
inline constexpr uint32_t kWasAppPoolDisabledIdentity = 5057;
inline constexpr uint32_t kWasAppPoolDisabledStartFailure = 5059;
inline constexpr uint32_t kWasWorkerRecycledFirst = 5074;
inline constexpr uint32_t kWasWorkerRecycledLast = 5080;
inline constexpr uint32_t kWasWorkerIdleShutdown = 5186;

// W3SVC (IIS 6): the same failures with ids 1002 and 1009-1013.
inline constexpr uint32_t kW3svcAppPoolDisabled = 1002;
inline constexpr uint32_t kW3svcWorkerTerminated = 1009;
inline constexpr uint32_t kW3svcWorkerShutdownTimeLimit = 1013;

// Application log crash companions.
inline constexpr uint32_t kApplicationErrorFaultingApp = 1000;
inline constexpr uint32_t kWerReport = 1001;

// Service Control Manager.
inline constexpr uint32_t kScmServiceTerminatedUnexpectedly = 7031;
inline constexpr uint32_t kScmServiceTerminatedNoRecovery = 7034;
inline constexpr uint32_t kScmServiceStateChanged = 7036;

// Companion events worth attaching to an incident of the same host.
inline bool IsCompanion(Provider provider, uint32_t id) {
  return (provider == Provider::kDotNetRuntime && id == 1026) ||
         (provider == Provider::kAspNet && id == 1309) ||
         (provider == Provider::kIisWorkerProcess && (id == 2280 || id == 2282)) ||
         (provider == Provider::kImap4 && id == 1036);
}

// WAS events that name a live worker of a pool (recycles, idle shutdown, private-bytes recycle).
inline bool IsWorkerAlive(Provider provider, uint32_t id) {
  return provider == Provider::kWas &&
         ((id >= kWasWorkerRecycledFirst && id <= kWasWorkerRecycledLast) || id == 5117 ||
          id == kWasWorkerIdleShutdown);
}

// The worker-process failures that IIS rapid-fail protection counts.
inline bool IsWorkerFailure(Provider provider, uint32_t id) {
  return (provider == Provider::kWas && id >= kWasWorkerTerminated &&
          id <= kWasWorkerShutdownTimeLimit) ||
         (provider == Provider::kW3svc && id >= kW3svcWorkerTerminated &&
          id <= kW3svcWorkerShutdownTimeLimit);
}

// An application pool taken down by rapid-fail protection (or unable to start at all).
inline bool IsAppPoolDisabled(Provider provider, uint32_t id) {
  return (provider == Provider::kWas &&
          (id == kWasAppPoolDisabled || id == kWasAppPoolDisabledIdentity ||
           id == kWasAppPoolDisabledStartFailure)) ||
         (provider == Provider::kW3svc && id == kW3svcAppPoolDisabled);
}

// Disabled by rapid-fail protection (after worker failures), not for a bad identity (5057) or a
// worker that could not start (5059).
inline bool IsRapidFailDisable(Provider provider, uint32_t id) {
  return (provider == Provider::kWas && id == kWasAppPoolDisabled) ||
         (provider == Provider::kW3svc && id == kW3svcAppPoolDisabled);
}

}  // namespace faultline

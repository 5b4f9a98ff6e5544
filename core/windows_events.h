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
// How many Provider values there are (kImap4 is the last).
inline constexpr int kProviderCount = static_cast<int>(Provider::kImap4) + 1;

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

// An event id of a provider: the sets below are the one place each family is listed; the
// predicates and the detectors' subscriptions both read them.
struct EventId {
  Provider provider;
  uint32_t id;
};

// Companion events worth attaching to an incident of the same host.
inline constexpr EventId kCompanionEvents[] = {
    {Provider::kDotNetRuntime, 1026},
    {Provider::kAspNet, 1309},
    {Provider::kIisWorkerProcess, 2280},
    {Provider::kIisWorkerProcess, 2282},
    {Provider::kImap4, 1036},
};

// WAS events that name a live worker of a pool (recycles, private-bytes recycle, idle shutdown).
inline constexpr EventId kWorkerAliveEvents[] = {
    {Provider::kWas, 5074},
    {Provider::kWas, 5075},
    {Provider::kWas, 5076},
    {Provider::kWas, 5077},
    {Provider::kWas, 5078},
    {Provider::kWas, 5079},
    {Provider::kWas, kWasWorkerRecycledLast},
    {Provider::kWas, 5117},
    {Provider::kWas, kWasWorkerIdleShutdown},
};

// The worker-process failures that IIS rapid-fail protection counts.
inline constexpr EventId kWorkerFailureEvents[] = {
    {Provider::kWas, kWasWorkerTerminated},
    {Provider::kWas, kWasWorkerPingFailed},
    {Provider::kWas, kWasWorkerCommunicationError},
    {Provider::kWas, kWasWorkerStartupTimeLimit},
    {Provider::kWas, kWasWorkerShutdownTimeLimit},
    {Provider::kW3svc, kW3svcWorkerTerminated},
    {Provider::kW3svc, 1010},
    {Provider::kW3svc, 1011},
    {Provider::kW3svc, 1012},
    {Provider::kW3svc, kW3svcWorkerShutdownTimeLimit},
};

// An application pool taken down by rapid-fail protection (or unable to start at all).
inline constexpr EventId kAppPoolDisabledEvents[] = {
    {Provider::kWas, kWasAppPoolDisabled},
    {Provider::kWas, kWasAppPoolDisabledIdentity},
    {Provider::kWas, kWasAppPoolDisabledStartFailure},
    {Provider::kW3svc, kW3svcAppPoolDisabled},
};

template <size_t N>
constexpr bool InSet(const EventId (&set)[N], Provider provider, uint32_t id) {
  for (const EventId& e : set) {
    if (e.provider == provider && e.id == id) return true;
  }
  return false;
}

inline bool IsCompanion(Provider provider, uint32_t id) {
  return InSet(kCompanionEvents, provider, id);
}
inline bool IsWorkerAlive(Provider provider, uint32_t id) {
  return InSet(kWorkerAliveEvents, provider, id);
}
inline bool IsWorkerFailure(Provider provider, uint32_t id) {
  return InSet(kWorkerFailureEvents, provider, id);
}
inline bool IsAppPoolDisabled(Provider provider, uint32_t id) {
  return InSet(kAppPoolDisabledEvents, provider, id);
}

// Disabled by rapid-fail protection (after worker failures), not for a bad identity (5057) or a
// worker that could not start (5059).
inline bool IsRapidFailDisable(Provider provider, uint32_t id) {
  return (provider == Provider::kWas && id == kWasAppPoolDisabled) ||
         (provider == Provider::kW3svc && id == kW3svcAppPoolDisabled);
}

}  // namespace faultline

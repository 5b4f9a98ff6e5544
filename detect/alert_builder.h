// Shared pieces of alert construction: the common fields, evidence entries, code explanations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/alert.h"
#include "core/windows_events.h"
#include "detect/lifecycle.h"

namespace faultline {

// "2026-03-10T09:14:03.472Z": how times appear in summaries and in fingerprint inputs.
std::string TimeText(absl::Time t);

// An alert with rule, severity, status and sequence from the rule's `state` (firing while it
// fires, resolved once Resolve() was called), the deterministic fingerprint (rule + key +
// incident start), the incident id shared by the incident's alerts (key + incident start),
// window and labels set.
Alert NewAlert(std::string_view rule, std::string_view severity, const AlertState& state,
               std::string_view key, absl::Time incident_start, absl::Duration window,
               const std::map<std::string, std::string>& labels);

// One evidence entry; codes are explained (exception code first, else exit code).
Evidence* AddEvidence(Alert* alert, std::string_view kind, Provider provider, uint32_t event_id,
                      absl::Time time, uint32_t pid = 0, uint64_t record_id = 0,
                      std::optional<uint32_t> exit_code = std::nullopt,
                      std::optional<uint32_t> exception_code = std::nullopt,
                      std::string_view detail = {});

// "45 seconds", "21 minutes", "2 hours 5 minutes", "1 day 3 hours", "73 years 12 days": the two
// largest units, for sentences a person reads.
std::string HumanDuration(absl::Duration d);

// "0x800703E9 stack overflow, 0xC0000005 access violation in native code": each code once.
std::string CodesText(const std::vector<uint32_t>& codes);

}  // namespace faultline

// Explains worker exit codes and exception codes in alerts (table: windows-events.md section 4).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace faultline {

// A short human meaning ("stack overflow"), or "" when the code is not in the table.
std::string_view DescribeExitCode(uint32_t code);

// "0x800703E9": the form used in evidence and summaries.
std::string FormatCode(uint32_t code);

}  // namespace faultline

#include "core/exit_codes.h"

#include "absl/strings/str_format.h"

namespace faultline {

std::string_view DescribeExitCode(uint32_t code) {
  switch (code) {
    case 0xFFFFFFFD:
      return "killed by WAS (ping or time limit)";
    case 0xFFFFFFFE:
      return "worker exited cleanly";
    case 0xFFFFFFFF:
      return "fatal error at start-up (identity, user rights or DLL load)";
    case 0x80:
      return "ERROR_WAIT_NO_CHILDREN: worker likely never started (rights or NTFS permissions)";
    case 0xC0000005:
      return "access violation in native code";
    case 0xC00000FD:
    case 0x800703E9:
    case 0xE053534F:
      return "stack overflow";
    case 0xC0000409:
      return "fail-fast / stack buffer overrun";
    case 0xE0434F4D:
    case 0xE0434352:
      return "unhandled .NET exception";
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x3:
    case 0xFF:
      return "plain process exit (unexpected exit, not a crash)";
    default:
      return "";
  }
}

std::string FormatCode(uint32_t code) { return absl::StrFormat("0x%08X", code); }

}  // namespace faultline

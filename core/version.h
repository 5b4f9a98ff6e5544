// faultline's version (CMake's project version), for User-Agent headers and faultline_build_info.
#pragma once

namespace faultline {

inline constexpr char kVersion[] = FAULTLINE_VERSION;

}  // namespace faultline

// What this binary is: faultline's version and the libraries it runs with, as `--version`
// prints them and the faultline_build_info metric labels them (one list for both).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace faultline {

// {"version", "0.1.0"}, {"librdkafka", "2.0.2"} (the library loaded, not the headers built
// against), {"simdjson", ...}, {"protobuf", ...}.
std::vector<std::pair<std::string, std::string>> BuildInfo();

}  // namespace faultline

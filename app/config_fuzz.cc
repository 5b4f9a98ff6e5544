// libFuzzer target over the configuration reader (ParseConfig: yaml-cpp, then every component's
// schema): whatever a file holds, the reader answers with a configuration or with its problems,
// never a crash, an uncaught exception or a sanitizer report. Seeds: the example configurations
// under deploy/. Its contract beyond that: a refusal says something.
#include <cstdint>
#include <string_view>

#include "app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<faultline::Config> config = faultline::ParseConfig(yaml, "fuzz.yaml");
  if (!config.ok() && config.status().message().empty()) __builtin_trap();
  return 0;
}

// Access to ../shared/fixtures (real event documents) from tests. Where ../shared is absent (a
// user's own clone) tests that need it skip with a clear message; CI always has it.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace faultline::testing {

inline std::string SharedPath(const std::string& relative) {
  return std::string(FAULTLINE_SHARED_DIR) + "/" + relative;
}

inline bool HaveShared() { return std::filesystem::is_directory(FAULTLINE_SHARED_DIR "/fixtures"); }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string SourcePath(const std::string& relative) {
  return std::string(FAULTLINE_SOURCE_DIR) + "/" + relative;
}

}  // namespace faultline::testing

#define FAULTLINE_SKIP_WITHOUT_SHARED()                                                       \
  if (!::faultline::testing::HaveShared()) {                                                  \
    GTEST_SKIP() << "../shared/fixtures not found next to the checkout; this test needs the " \
                    "real event documents (CI always has them)";                              \
  }

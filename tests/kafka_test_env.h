// Where the real-broker tests find Kafka: $FAULTLINE_KAFKA_BOOTSTRAP, else the address
// deploy/local/kafka.sh wrote for the CTest fixture (build/kafka/bootstrap).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace faultline::testing {

inline std::string KafkaBootstrap() {
  if (const char* env = std::getenv("FAULTLINE_KAFKA_BOOTSTRAP")) return env;
  std::ifstream in(std::string(FAULTLINE_BINARY_DIR) + "/kafka/bootstrap");
  std::string address;
  std::getline(in, address);
  return address;
}

// A topic or group name no earlier run used.
inline std::string UniqueName(const std::string& prefix) {
  return absl::StrCat(prefix, "-", absl::ToUnixMicros(absl::Now()));
}

}  // namespace faultline::testing

#define FAULTLINE_REQUIRE_KAFKA(var)                                                        \
  const std::string var = ::faultline::testing::KafkaBootstrap();                           \
  if (var.empty()) {                                                                        \
    GTEST_SKIP() << "no Kafka broker: run through ctest (it starts deploy/local/kafka.sh) " \
                    "or set FAULTLINE_KAFKA_BOOTSTRAP";                                     \
  }

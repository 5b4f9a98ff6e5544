#include "app/build_info.h"

#include "absl/strings/str_cat.h"
#include "core/version.h"
#include "google/protobuf/stubs/common.h"
#include "librdkafka/rdkafka.h"
#include "simdjson.h"

namespace faultline {

std::vector<std::pair<std::string, std::string>> BuildInfo() {
  return {{"version", kVersion},
          {"librdkafka", rd_kafka_version_str()},
          {"simdjson",
           absl::StrCat(simdjson::SIMDJSON_VERSION_MAJOR, ".", simdjson::SIMDJSON_VERSION_MINOR,
                        ".", simdjson::SIMDJSON_VERSION_REVISION)},
          {"protobuf", google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)}};
}

}  // namespace faultline

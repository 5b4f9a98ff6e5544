#include "core/alert.h"

#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"

namespace faultline {

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1'000'000'000 - (nanos % 1'000'000'000 < 0 ? 1 : 0));
  ts.set_nanos(static_cast<int32_t>(((nanos % 1'000'000'000) + 1'000'000'000) % 1'000'000'000));
  return ts;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::string AlertToJson(const Alert& alert) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Cannot fail for a message without Any fields; an empty string would surface in tests.
  (void)google::protobuf::util::MessageToJsonString(alert, &out, options);
  return out;
}

std::string StableId(std::initializer_list<std::string_view> parts) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::string_view part : parts) {
    for (unsigned char c : part) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0x1f;  // separator, so ("ab","c") and ("a","bc") differ
    h *= 0x100000001b3ULL;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace faultline

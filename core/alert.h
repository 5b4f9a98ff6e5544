// The alert type is the protobuf message of proto/alert.proto: the stable JSON shape of
// DESIGN.md is that message printed with proto field names, so the JSON, the Kafka alerts topic
// and every sink speak one schema. Alerts are rarer than events, but a Sigma rule set raises
// thousands.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/alert.pb.h"

namespace faultline {

using Alert = v1::Alert;
using Evidence = v1::Evidence;

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);

// One line of JSON with every field present (empty strings and zero counts included), field
// names as in alert.proto, times as RFC 3339 UTC: protobuf's JSON printing of the message
// (proto field names, primitives always printed), written by hand where it can be (protobuf's
// printer costs tens of microseconds an alert), labels sorted by key there (an alert with text
// to escape is printed by protobuf, its labels in protobuf's map order).
std::string AlertToJson(const Alert& alert);
// The same by protobuf's printer: the reference, and what AlertToJson falls back on.
std::string AlertToJsonByProtobuf(const Alert& alert);

// A deterministic 16-hex-digit id of the given parts (FNV-1a 64), stable across processes and
// machines: used for alert fingerprints and incident ids.
std::string StableId(std::initializer_list<std::string_view> parts);

}  // namespace faultline

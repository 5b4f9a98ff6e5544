#include "app/kafka_publish.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"
#include "ingest/parse/envelope_parser.h"

namespace faultline {

std::vector<KafkaRecord> SplitLines(std::string_view text, const std::string& key) {
  std::vector<KafkaRecord> records;
  for (absl::string_view line : absl::StrSplit(ToAbsl(text), '\n', absl::SkipWhitespace())) {
    records.push_back({key, std::string(line)});
  }
  return records;
}

absl::StatusOr<std::vector<KafkaRecord>> ReadLines(const std::string& path,
                                                   const std::string& key) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return SplitLines(text.str(), key);
}

void StampWithEventTimes(std::vector<KafkaRecord>& records) {
  EnvelopeParser parser;
  Event event;
  for (KafkaRecord& r : records) {
    if (parser.Parse(r.value, &event) == ParseError::kOk) r.timestamp = event.time;
  }
}

}  // namespace faultline

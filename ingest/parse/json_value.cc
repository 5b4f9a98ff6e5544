#include "ingest/parse/json_value.h"

#include <cstring>

#include "core/strings.h"

namespace faultline {

ParseError FromSimdjson(simdjson::error_code error) {
  switch (error) {
    case simdjson::SUCCESS:
      return ParseError::kOk;
    case simdjson::UNCLOSED_STRING:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
    case simdjson::EMPTY:
      return ParseError::kTruncated;
    case simdjson::INCORRECT_TYPE:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return ParseError::kWrongType;
    case simdjson::CAPACITY:
      return ParseError::kTooLarge;
    case simdjson::UTF8_ERROR:
      return ParseError::kBadUtf8;
    default:
      return ParseError::kNotJson;
  }
}

simdjson::error_code ValueText(simdjson::ondemand::value value, std::string_view* out) {
  // Strings are the common case: try one first (a failed get_string does not consume the value)
  // instead of asking the type of every value.
  const simdjson::error_code as_string = value.get_string().get(*out);
  if (as_string != simdjson::INCORRECT_TYPE) return as_string;
  simdjson::ondemand::json_type type;
  if (auto err = value.type().get(type)) return err;
  switch (type) {
    case simdjson::ondemand::json_type::string:
      return value.get_string().get(*out);
    case simdjson::ondemand::json_type::number:
    case simdjson::ondemand::json_type::boolean:
      *out = StripWhitespace(value.raw_json_token());
      return simdjson::SUCCESS;
    default:
      *out = {};
      return simdjson::SUCCESS;
  }
}

ParseError RootNotObject(simdjson::ondemand::document& doc) {
  simdjson::ondemand::json_type type;
  if (doc.type().get(type)) return ParseError::kNotJson;
  bool valid = false;
  switch (type) {
    case simdjson::ondemand::json_type::array:
      return ParseError::kNotObject;
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      valid = doc.get_string().get(s) == simdjson::SUCCESS;
      break;
    }
    case simdjson::ondemand::json_type::number: {
      double d;
      valid = doc.get_double().get(d) == simdjson::SUCCESS;
      break;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      valid = doc.get_bool().get(b) == simdjson::SUCCESS;
      break;
    }
    case simdjson::ondemand::json_type::null: {
      bool n = false;
      valid = doc.is_null().get(n) == simdjson::SUCCESS && n;
      break;
    }
    default:
      break;
  }
  return valid ? ParseError::kNotObject : ParseError::kNotJson;
}

simdjson::error_code IteratePadded(simdjson::ondemand::parser& parser, std::string_view message,
                                   std::string& buffer, simdjson::ondemand::document* doc) {
  const size_t needed = message.size() + simdjson::SIMDJSON_PADDING;
  if (buffer.size() < needed) buffer.resize(needed);
  std::memcpy(buffer.data(), message.data(), message.size());
  std::memset(buffer.data() + message.size(), 0, simdjson::SIMDJSON_PADDING);
  return parser.iterate(buffer.data(), message.size(), buffer.size()).get(*doc);
}

std::vector<std::string_view> SplitJsonDocuments(std::string_view text) {
  std::vector<std::string_view> docs;
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"' && depth > 0) {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}' && depth > 0 && --depth == 0) {
      docs.push_back(text.substr(start, i - start + 1));
    }
  }
  return docs;
}

}  // namespace faultline

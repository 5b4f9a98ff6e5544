// Small helpers over simdjson On-Demand values shared by the JSON envelope parsers.
#pragma once

#include <string_view>
#include <vector>

#include "ingest/parse/parse_error.h"
#include "simdjson.h"

namespace faultline {

// Maps a simdjson error to the reject reason a user reads.
ParseError FromSimdjson(simdjson::error_code error);

// The value as text: a string's unescaped contents, or a number's or boolean's literal. null,
// objects and arrays give "" (forwarders write null for absent data).
simdjson::error_code ValueText(simdjson::ondemand::value value, std::string_view* out);

// Why a document whose root is not an object was rejected: kNotObject for valid JSON of
// another type (an array, a number), kNotJson for text that is no JSON at all.
ParseError RootNotObject(simdjson::ondemand::document& doc);

// Copies `message` into `buffer` with SIMDJSON_PADDING spare bytes (growing it only when needed)
// and starts iterating it.
simdjson::error_code IteratePadded(simdjson::ondemand::parser& parser, std::string_view message,
                                   std::string& buffer, simdjson::ondemand::document* doc);

// The JSON documents of a text that holds them one after another, pretty-printed or not
// (evtx_dump's output, SigmaHQ's regression data): each top-level {...} as a view into `text`.
// Text outside the objects is ignored.
std::vector<std::string_view> SplitJsonDocuments(std::string_view text);

}  // namespace faultline

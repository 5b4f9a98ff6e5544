// The configuration reference and a JSON Schema, both generated from the settings schemas
// (core/settings.h), so neither can drift from what the reader accepts.
#pragma once

#include <string>
#include <string_view>

#include "core/settings.h"

namespace faultline::settings {

// Markdown: one table per section (key, type, default, description), nested sections and each
// variant of a variant list (sink types) in turn. `intro` comes first, verbatim.
std::string MarkdownReference(const SchemaBase& root, std::string_view intro);

// A JSON Schema (draft 2020-12) of the whole file for editors (YAML language servers read it):
// unknown keys refused, bounds and choices as the reader has them.
std::string JsonSchema(const SchemaBase& root, std::string_view title);

}  // namespace faultline::settings

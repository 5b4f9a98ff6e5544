#include "core/settings_doc.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/json_writer.h"

namespace faultline::settings {
namespace {

std::string Cell(std::string_view text) {
  return absl::StrReplaceAll(absl::string_view(text.data(), text.size()),
                             {{"|", "\\|"}, {"\n", " "}});
}

bool IsNested(const FieldInfo& f) {
  return f.kind == Kind::kSection || f.kind == Kind::kSectionList || f.kind == Kind::kVariantList;
}

std::string TypeText(const FieldInfo& f) {
  std::string type = f.type;
  if (f.kind == Kind::kChoice) type = absl::StrJoin(f.choices, " | ");
  if (f.kind == Kind::kInteger || (f.kind == Kind::kList && f.min)) {
    absl::StrAppend(&type, " ", *f.min, "..", *f.max);
  }
  if (f.min_items > 0) absl::StrAppend(&type, ", not empty");
  if (f.secret) absl::StrAppend(&type, " (or `", f.key, "_file`, `", f.key, "_env`)");
  return type;
}

void Table(const SchemaBase& schema, std::string* out) {
  std::vector<const FieldInfo*> rows;
  for (const FieldInfo& f : schema.fields()) {
    if (!IsNested(f)) rows.push_back(&f);
  }
  for (const FieldInfo& f : schema.fields()) {
    if (IsNested(f)) rows.push_back(&f);
  }
  if (rows.empty()) return;
  absl::StrAppend(out, "| key | type | default | description |\n|---|---|---|---|\n");
  for (const FieldInfo* f : rows) {
    std::string def = f->required               ? "required"
                      : f->default_text.empty() ? ""
                                                : "`" + f->default_text + "`";
    std::string type =
        IsNested(*f) ? (f->kind == Kind::kSection ? "section" : "list") : TypeText(*f);
    if (IsNested(*f)) {
      absl::StrAppend(
          out, "| `", f->key, "` | ", type, " | | ",
          Cell(f->description.empty() && f->nested ? f->nested->description() : f->description),
          " (below) |\n");
    } else {
      absl::StrAppend(out, "| `", f->key, "` | ", Cell(type), " | ", Cell(def), " | ",
                      Cell(f->description), " |\n");
    }
  }
  absl::StrAppend(out, "\n");
}

void Section(const SchemaBase& schema, const std::string& path, int depth, std::string* out) {
  for (const FieldInfo& f : schema.fields()) {
    if (!IsNested(f)) continue;
    const std::string heading(std::min(depth, 4), '#');
    const std::string sub = path.empty() ? f.key : absl::StrCat(path, ".", f.key);
    if (f.kind == Kind::kVariantList) {
      absl::StrAppend(out, heading, " `", sub, "`\n\n", f.description, "\n\n");
      absl::StrAppend(out, "Every entry has these keys:\n\n");
      Table(*f.nested, out);
      for (const auto& [type, variant] : f.variants) {
        absl::StrAppend(out, heading, "# `", sub, "[]` with `type: ", type, "`\n\n",
                        variant->description(), "\n\n");
        Table(*variant, out);
        Section(*variant, absl::StrCat(sub, "[]"), depth + 2, out);
      }
      continue;
    }
    const std::string name = f.kind == Kind::kSectionList ? absl::StrCat(sub, "[]") : sub;
    absl::StrAppend(out, heading, " `", name, "`\n\n", f.nested->description(), "\n\n");
    if (f.kind == Kind::kSectionList && !f.description.empty()) {
      absl::StrAppend(out, f.description, "\n\n");
    }
    Table(*f.nested, out);
    Section(*f.nested, name, depth + 1, out);
  }
}

std::string Quote(std::string_view s) { return JsonQuoted(s); }

std::string Indent(int n) { return std::string(2 * static_cast<size_t>(n), ' '); }

std::string ObjectSchema(const SchemaBase& schema, int level,
                         const std::vector<std::string>& extra_properties = {},
                         const std::vector<std::string>& extra_required = {});

std::string FieldSchema(const FieldInfo& f, int level) {
  std::vector<std::string> parts;
  if (!f.description.empty()) parts.emplace_back("\"description\": " + Quote(f.description));
  switch (f.kind) {
    case Kind::kString:
      parts.emplace_back("\"type\": \"string\"");
      if (f.type == "glob") parts.emplace_back("\"pattern\": \"^[^\\\\[\\\\]{}]+$\"");
      break;
    case Kind::kInteger:
      parts.emplace_back("\"type\": \"integer\"");
      parts.push_back(absl::StrCat("\"minimum\": ", *f.min, ", \"maximum\": ", *f.max));
      break;
    case Kind::kBoolean:
      parts.emplace_back("\"type\": \"boolean\"");
      break;
    case Kind::kDuration:
      // As absl::ParseDuration reads them; a bare 0 is a YAML integer.
      parts.emplace_back("\"type\": [\"string\", \"integer\"]");
      parts.emplace_back(
          "\"pattern\": "
          "\"^[-+]?(([0-9]+(\\\\.[0-9]*)?|\\\\.[0-9]+)(ns|us|ms|s|m|h))+$|^0$|^inf$\"");
      break;
    case Kind::kChoice: {
      std::vector<std::string> quoted;
      for (const auto& c : f.choices) quoted.push_back(Quote(c));
      parts.push_back(absl::StrCat("\"enum\": [", absl::StrJoin(quoted, ", "), "]"));
      break;
    }
    case Kind::kList:
      if (f.min) {
        parts.push_back(absl::StrCat("\"type\": \"array\", \"items\": {\"type\": \"integer\", ",
                                     "\"minimum\": ", *f.min, ", \"maximum\": ", *f.max, "}"));
      } else {
        parts.emplace_back("\"type\": [\"array\", \"string\"], \"items\": {\"type\": \"string\"}");
      }
      if (f.min_items > 0) parts.push_back(absl::StrCat("\"minItems\": ", f.min_items));
      break;
    case Kind::kMap:
      parts.emplace_back("\"type\": \"object\", \"additionalProperties\": {\"type\": \"string\"}");
      break;
    case Kind::kSection:
      return ObjectSchema(*f.nested, level);
    case Kind::kSectionList:
      parts.emplace_back("\"type\": \"array\"");
      if (f.min_items > 0) parts.push_back(absl::StrCat("\"minItems\": ", f.min_items));
      parts.emplace_back("\"items\": " + ObjectSchema(*f.nested, level + 1));
      break;
    case Kind::kVariantList: {
      parts.emplace_back("\"type\": \"array\"");
      if (f.min_items > 0) parts.push_back(absl::StrCat("\"minItems\": ", f.min_items));
      std::vector<std::string> variants;
      for (const auto& [type, variant] : f.variants) {
        std::vector<std::string> props;
        props.push_back(Indent(level + 3) + "\"type\": {\"const\": " + Quote(type) + "}");
        for (const FieldInfo& common : f.nested->fields()) {
          if (common.key == "type") continue;
          props.push_back(Indent(level + 3) + Quote(common.key) + ": " +
                          FieldSchema(common, level + 3));
        }
        variants.push_back(Indent(level + 2) + ObjectSchema(*variant, level + 2, props, {"type"}));
      }
      parts.emplace_back("\"items\": {\n" + Indent(level + 1) + "\"oneOf\": [\n" +
                         absl::StrJoin(variants, ",\n") + "\n" + Indent(level + 1) + "]}");
      break;
    }
  }
  if (!f.default_text.empty() && f.kind != Kind::kList) {
    std::string def = f.default_text;
    if (def.size() >= 2 && def.front() == '"') def = def.substr(1, def.size() - 2);
    if (f.kind == Kind::kInteger || f.kind == Kind::kBoolean) {
      parts.emplace_back("\"default\": " + def);
    } else {
      parts.emplace_back("\"default\": " + Quote(def));
    }
  }
  return "{" + absl::StrJoin(parts, ", ") + "}";
}

std::string ObjectSchema(const SchemaBase& schema, int level,
                         const std::vector<std::string>& extra_properties,
                         const std::vector<std::string>& extra_required) {
  std::vector<std::string> props = extra_properties;
  std::vector<std::string> required;
  required.reserve(extra_required.size());
  for (const auto& r : extra_required) required.push_back(Quote(r));
  for (const FieldInfo& f : schema.fields()) {
    props.push_back(Indent(level + 1) + Quote(f.key) + ": " + FieldSchema(f, level + 1));
    if (f.secret) {
      for (const char* suffix : {"_file", "_env"}) {
        props.push_back(
            Indent(level + 1) + Quote(f.key + suffix) +
            ": {\"type\": \"string\", \"description\": " +
            Quote(absl::StrCat(
                suffix[1] == 'f' ? "A file holding " : "An environment variable holding ", f.key)) +
            "}");
      }
    }
    if (f.required && !f.secret) required.push_back(Quote(f.key));
  }
  std::string out = "{\n" + Indent(level + 1) + "\"type\": \"object\",\n" + Indent(level + 1) +
                    "\"description\": " + Quote(schema.description()) + ",\n" + Indent(level + 1) +
                    "\"additionalProperties\": false,\n";
  if (!required.empty()) {
    absl::StrAppend(&out, Indent(level + 1), "\"required\": [", absl::StrJoin(required, ", "),
                    "],\n");
  }
  absl::StrAppend(&out, Indent(level + 1), "\"properties\": {\n", absl::StrJoin(props, ",\n"), "\n",
                  Indent(level + 1), "}\n", Indent(level), "}");
  return out;
}

}  // namespace

std::string MarkdownReference(const SchemaBase& root, std::string_view intro) {
  std::string out(intro);
  Table(root, &out);
  Section(root, "", 2, &out);
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') {
    out.pop_back();
  }
  return out;
}

std::string JsonSchema(const SchemaBase& root, std::string_view title) {
  std::string object = ObjectSchema(root, 0);
  // The root object, with the draft and the title in front of its members.
  return absl::StrCat("{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n",
                      "  \"title\": ", Quote(title), ",", object.substr(1), "\n");
}

}  // namespace faultline::settings

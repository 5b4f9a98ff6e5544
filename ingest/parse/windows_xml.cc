#include "ingest/parse/windows_xml.h"

#include <array>

#include "absl/strings/match.h"
#include "core/strings.h"
#include "ingest/parse/time_parse.h"

namespace faultline {
namespace {

struct Tag {
  std::string_view name;   // without namespace prefix
  std::string_view attrs;  // raw attribute text
  bool closing = false;    // </name>
  bool empty = false;      // <name/>
};

std::string_view LocalName(std::string_view name) {
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Reads the next tag at or after *pos; *pos ends just past it. Skips comments, processing
// instructions and declarations. False at the end of input or on a malformed tag.
bool NextTag(std::string_view s, size_t* pos, Tag* tag) {
  while (true) {
    const size_t lt = s.find('<', *pos);
    if (lt == std::string_view::npos) return false;
    if (s.compare(lt, 4, "<!--") == 0) {
      const size_t end = s.find("-->", lt + 4);
      if (end == std::string_view::npos) return false;
      *pos = end + 3;
      continue;
    }
    if (lt + 1 < s.size() && (s[lt + 1] == '?' || s[lt + 1] == '!')) {
      const size_t end = s.find('>', lt);
      if (end == std::string_view::npos) return false;
      *pos = end + 1;
      continue;
    }
    // Attribute values may contain '>': scan with quote awareness.
    size_t i = lt + 1;
    char quote = 0;
    for (; i < s.size(); ++i) {
      if (quote) {
        if (s[i] == quote) quote = 0;
      } else if (s[i] == '"' || s[i] == '\'') {
        quote = s[i];
      } else if (s[i] == '>') {
        break;
      }
    }
    if (i >= s.size()) return false;
    std::string_view inner = s.substr(lt + 1, i - lt - 1);
    *pos = i + 1;
    tag->closing = !inner.empty() && inner[0] == '/';
    if (tag->closing) inner.remove_prefix(1);
    tag->empty = !inner.empty() && inner.back() == '/';
    if (tag->empty) inner.remove_suffix(1);
    size_t name_end = 0;
    while (name_end < inner.size() && inner[name_end] != ' ' && inner[name_end] != '\t' &&
           inner[name_end] != '\n' && inner[name_end] != '\r') {
      ++name_end;
    }
    tag->name = LocalName(inner.substr(0, name_end));
    tag->attrs = inner.substr(name_end);
    return !tag->name.empty();
  }
}

// The raw value of attribute `name` in `attrs`, or "" when absent.
std::string_view Attribute(std::string_view attrs, std::string_view name) {
  size_t pos = 0;
  while ((pos = attrs.find(name, pos)) != std::string_view::npos) {
    const bool starts = pos == 0 || attrs[pos - 1] == ' ' || attrs[pos - 1] == '\t' ||
                        attrs[pos - 1] == '\n' || attrs[pos - 1] == '\r';
    size_t i = pos + name.size();
    while (i < attrs.size() && attrs[i] == ' ') ++i;
    if (starts && i < attrs.size() && attrs[i] == '=') {
      ++i;
      while (i < attrs.size() && attrs[i] == ' ') ++i;
      if (i < attrs.size() && (attrs[i] == '"' || attrs[i] == '\'')) {
        const size_t end = attrs.find(attrs[i], i + 1);
        if (end == std::string_view::npos) return {};
        return attrs.substr(i + 1, end - i - 1);
      }
      return {};
    }
    pos += name.size();
  }
  return {};
}

bool AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return true;
}

}  // namespace

ParseError WindowsXmlParser::Parse(std::string_view xml, Event* out, RawFields* raw) {
  // Decoded text never outgrows its source, so one reservation keeps every view valid. With
  // all_fields a text may be decoded twice (a <UserData> leaf that is also read below).
  scratch_.clear();
  const size_t most = all_fields_ ? 2 * xml.size() : xml.size();
  if (scratch_.capacity() < most) scratch_.reserve(most);

  // Text up to the next '<', trimmed, with entities decoded (into scratch_ only when needed).
  auto text_at = [&](size_t pos) -> std::string_view {
    const size_t lt = xml.find('<', pos);
    std::string_view text =
        StripWhitespace(xml.substr(pos, (lt == std::string_view::npos ? xml.size() : lt) - pos));
    if (!absl::StrContains(ToAbsl(text), '&')) return text;
    const size_t start = scratch_.size();
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '&') {
        scratch_.push_back(text[i]);
        continue;
      }
      const size_t semi = text.find(';', i);
      if (semi == std::string_view::npos) {
        scratch_.push_back('&');
        continue;
      }
      const std::string_view entity = text.substr(i + 1, semi - i - 1);
      bool ok = true;
      if (entity == "amp") {
        scratch_.push_back('&');
      } else if (entity == "lt") {
        scratch_.push_back('<');
      } else if (entity == "gt") {
        scratch_.push_back('>');
      } else if (entity == "quot") {
        scratch_.push_back('"');
      } else if (entity == "apos") {
        scratch_.push_back('\'');
      } else if (entity.size() > 1 && entity[0] == '#') {
        uint32_t cp = 0;
        const bool hex = entity[1] == 'x' || entity[1] == 'X';
        ok = ParseUint32(entity.substr(hex ? 2 : 1), hex, &cp) &&
             scratch_.size() + 4 <= scratch_.capacity() && AppendCodePoint(cp, &scratch_);
      } else {
        ok = false;
      }
      if (!ok) {
        scratch_.push_back('&');
        continue;
      }
      i = semi;
    }
    return std::string_view(scratch_).substr(start);
  };

  size_t pos = 0;
  Tag tag;
  bool in_event = false, in_system = false, in_event_data = false, saw_event_id = false;
  bool saw_time = false;
  int data_index = 0;
  std::string_view time_text;
  // all_fields in <UserData>: the element opened last, a leaf if it closes before another opens.
  bool in_user_data = false;
  std::string_view leaf_name;
  size_t leaf_text = 0;
  std::array<char, 32> param_name;
  while (NextTag(xml, &pos, &tag)) {
    if (!in_event) {
      if (tag.name == "Event" && !tag.closing) in_event = !tag.empty;
      continue;
    }
    // all_fields: the leaves of <UserData>, beside (never instead of) what is read below.
    if (all_fields_) [[unlikely]] {
      if (in_user_data) {
        if (tag.closing && tag.name == "UserData") {
          in_user_data = false;
        } else if (tag.closing) {
          if (tag.name == leaf_name) out->data.Add(leaf_name, text_at(leaf_text));
          leaf_name = {};
        } else if (tag.empty) {
          out->data.Add(tag.name, {});
          leaf_name = {};
        } else {
          leaf_name = tag.name;
          leaf_text = pos;
        }
      } else if (tag.name == "UserData" && !tag.closing && !tag.empty && !in_system &&
                 !in_event_data) {
        in_user_data = true;
      }
    }
    if (tag.closing) {
      if (tag.name == "Event") break;
      if (tag.name == "System") in_system = false;
      if (tag.name == "EventData" || tag.name == "UserData") in_event_data = false;
      continue;
    }
    if (tag.name == "System") {
      in_system = !tag.empty;
    } else if (tag.name == "EventData") {
      in_event_data = !tag.empty;
    } else if (in_system) {
      if (tag.name == "Provider") {
        out->provider_name.assign(Attribute(tag.attrs, "Name"));
      } else if (tag.name == "TimeCreated") {
        time_text = Attribute(tag.attrs, "SystemTime");
        saw_time = true;
      } else if (!tag.empty) {
        const std::string_view text = text_at(pos);
        if (tag.name == "EventID") {
          saw_event_id = ParseUint32(text, false, &out->event_id);
        } else if (tag.name == "Level") {
          uint32_t level = 0;
          if (ParseUint32(text, false, &level) && level < 256) out->level = level;
        } else if (tag.name == "EventRecordID") {
          uint64_t record = 0;
          if (ParseUint64(text, &record)) out->record_id = record;
        } else if (tag.name == "Channel") {
          out->channel.assign(text);
        } else if (tag.name == "Computer") {
          out->host.assign(text);
        }
      }
    } else if (in_event_data) {
      if (tag.name == "Data") {
        const std::string_view value = tag.empty ? std::string_view() : text_at(pos);
        const std::string_view name = Attribute(tag.attrs, "Name");
        ++data_index;
        if (!name.empty()) {
          raw->Add(name, value);
        } else if (data_index <= RawFields::kMaxParams) {
          raw->params[data_index - 1] = value;
        }
        if (all_fields_) {
          out->data.Add(name.empty() ? ParamName(data_index, &param_name) : name, value);
        }
      } else if (tag.name == "Binary" && !tag.empty) {
        raw->binary = text_at(pos);
        if (all_fields_) out->data.Add("Binary", raw->binary);
      }
    } else if (tag.name == "Message" && !tag.empty) {  // RenderingInfo/Message
      raw->message = text_at(pos);
    }
  }
  if (!in_event) return ParseError::kUnknownEnvelope;
  if (!saw_event_id) return ParseError::kNoEventId;
  if (out->host.empty()) return ParseError::kNoHost;
  if (!saw_time || !ParseIso8601(time_text, &out->time) || !IsPlausibleEventTime(out->time)) {
    return ParseError::kBadTime;
  }
  return ParseError::kOk;
}

}  // namespace faultline

// Every event data item of one event, by name: what a rule that may test any field (Sigma) reads.
// The detectors' own fields are pulled out into Event by the parser; this holds the rest too, and
// is filled only when the parser is asked for it (EnvelopeOptions::all_fields), so a service
// without such rules pays nothing. A flat arena reused across messages: once grown, Add allocates
// nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

class EventData {
 public:
  // Named items keep their name (Data Name="CommandLine" is "CommandLine"); unnamed ones (legacy
  // insertion strings) are "param1", "param2", ... as Winlogbeat names them. A nested object
  // (UserData) contributes its leaves by their own names. Values are text: numbers as written.
  void Add(std::string_view name, std::string_view value) {
    const auto at = static_cast<uint32_t>(arena_.size());
    arena_.append(name);
    arena_.append(value);
    items_.push_back({at, static_cast<uint32_t>(name.size()), static_cast<uint32_t>(value.size())});
  }
  // The value of the first item named exactly `name`; false if there is none.
  bool Find(std::string_view name, std::string_view* value) const {
    for (size_t i = 0; i < items_.size(); ++i) {
      if (this->name(i) == name) {
        *value = this->value(i);
        return true;
      }
    }
    return false;
  }
  size_t size() const { return items_.size(); }
  std::string_view name(size_t i) const {
    return std::string_view(arena_).substr(items_[i].at, items_[i].name_len);
  }
  std::string_view value(size_t i) const {
    return std::string_view(arena_).substr(items_[i].at + items_[i].name_len, items_[i].value_len);
  }
  // Empties it, keeping capacity.
  void Clear() {
    arena_.clear();
    items_.clear();
  }

 private:
  struct Item {
    uint32_t at;  // name, then value, in arena_
    uint32_t name_len;
    uint32_t value_len;
  };
  std::string arena_;
  std::vector<Item> items_;
};

}  // namespace faultline

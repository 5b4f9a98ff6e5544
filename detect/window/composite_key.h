// A state key of names ("host \x1f pool", "host \x1f service", "host \x1f correlation \x1f
// value \x1e value \x1e"): built in a reused buffer, so a lookup of a known key allocates nothing,
// and split back into its names. Join builds the same bytes as a string of its own, for a key an
// alert keeps (its fingerprint's input, which must not change between releases).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace faultline {

class CompositeKey {
 public:
  // The key of (a, b); valid until the next call.
  const std::string& Of(std::string_view a, std::string_view b) {
    buffer_.assign(a);
    return Then(b);
  }
  // The last key with one more name: Of(a, b) then Then(c) is the key of (a, b, c).
  const std::string& Then(std::string_view name) {
    buffer_.push_back(kSeparator);
    buffer_.append(name);
    return buffer_;
  }
  // Adds an item to the last name, a list of values (a correlation's group-by values): each item
  // ends in its own separator, so items never run into each other (("ab") is not ("a", "b")) and
  // an empty item still counts.
  const std::string& AddItem(std::string_view item) {
    buffer_.append(item);
    buffer_.push_back(kItemSeparator);
    return buffer_;
  }
  // The key last built (by Of, Then and AddItem).
  const std::string& last() const { return buffer_; }

  // The key of `names` as Of() and Then() build it, as a string of its own.
  static std::string Join(std::initializer_list<std::string_view> names) {
    std::string key;
    for (const std::string_view name : names) {
      key.append(name);
      key.push_back(kSeparator);
    }
    if (!key.empty()) {
      key.pop_back();  // the separator after the last name
    }
    return key;
  }
  static std::string_view First(std::string_view key) {
    return key.substr(0, key.find(kSeparator));
  }
  static std::string_view Second(std::string_view key) {
    const size_t at = key.find(kSeparator);
    return at == std::string_view::npos ? std::string_view() : key.substr(at + 1);
  }

 private:
  static constexpr char kSeparator = '\x1f';      // never in a host, pool or service name
  static constexpr char kItemSeparator = '\x1e';  // between the items of a list name
  std::string buffer_;
};

}  // namespace faultline

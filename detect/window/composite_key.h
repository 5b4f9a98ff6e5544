// A state key of two names ("host \x1f pool", "host \x1f service"): built in a reused buffer,
// so a lookup of a known key allocates nothing, and split back into its names.
#pragma once

#include <string>
#include <string_view>

namespace faultline {

class CompositeKey {
 public:
  // The key of (a, b); valid until the next call.
  const std::string& Of(std::string_view a, std::string_view b) {
    buffer_.assign(a);
    buffer_.push_back(kSeparator);
    buffer_.append(b);
    return buffer_;
  }
  // The key the last Of() built.
  const std::string& last() const { return buffer_; }
  static std::string_view First(std::string_view key) {
    return key.substr(0, key.find(kSeparator));
  }
  static std::string_view Second(std::string_view key) {
    const size_t at = key.find(kSeparator);
    return at == std::string_view::npos ? std::string_view() : key.substr(at + 1);
  }

 private:
  static constexpr char kSeparator = '\x1f';  // never in a host, pool or service name
  std::string buffer_;
};

}  // namespace faultline

// The mechanism both plugin registries share (detect/registry.h for detectors, sinks/registry.h
// for sinks): plugins by name, each with the schema of its settings and a factory that takes
// them typed. Filled by explicit calls from app/builtin.cc, one line per plugin: greppable and
// ordered, no static self-registration.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "core/settings.h"

namespace faultline {

template <typename Product, typename Context>
class PluginRegistry {
 public:
  using Result = absl::StatusOr<std::unique_ptr<Product>>;
  template <typename S>
  using Factory = std::function<Result(const S& settings, const Context& context)>;

  // `name` is the plugin's key in the file; the factory gets the settings `schema` read (already
  // validated: it only builds, and returns what it can find out only by trying as an error).
  template <typename S>
  void Register(std::string name, const settings::Schema<S>& schema,
                std::type_identity_t<Factory<S>> factory) {
    entries_.push_back({std::move(name), &schema,
                        settings::WithSettingsOf(schema, Factory<S>(std::move(factory)))});
  }

  struct Entry {
    std::string name;
    const settings::SchemaBase* schema;
    std::function<Result(const settings::AnySettings&, const Context&)> create;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  // Null when no plugin has that name.
  const Entry* Find(std::string_view name) const {
    for (const Entry& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace faultline

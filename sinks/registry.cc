#include "sinks/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace faultline {

void SinkRegistry::Register(std::string type, Factory factory) {
  factories_.emplace_back(std::move(type), std::move(factory));
}

absl::StatusOr<std::unique_ptr<Sink>> SinkRegistry::Create(const SinkSpec& spec,
                                                           const SinkContext& ctx) const {
  for (const auto& [type, factory] : factories_) {
    if (type == spec.type) return factory(spec, ctx);
  }
  return absl::NotFoundError(
      absl::StrCat("unknown sink type \"", spec.type, "\"; known: ", absl::StrJoin(types(), ", ")));
}

std::vector<std::string> SinkRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& entry : factories_) out.push_back(entry.first);
  return out;
}

}  // namespace faultline

#include "sinks/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace faultline {

void SinkRegistry::Register(std::string type, Factory factory) {
  factories_.emplace_back(std::move(type), std::move(factory));
}

absl::StatusOr<std::unique_ptr<Sink>> SinkRegistry::Create(SinkOptions& options,
                                                           const SinkContext& ctx) const {
  for (const auto& [type, factory] : factories_) {
    if (type != options.type()) continue;
    absl::StatusOr<std::unique_ptr<Sink>> sink = factory(options, ctx);
    // Option errors first: they say what to fix in the file, all at once.
    if (absl::Status s = options.Finish(); !s.ok()) return s;
    return sink;
  }
  return absl::NotFoundError(absl::StrCat("unknown sink type \"", options.type(),
                                          "\"; known: ", absl::StrJoin(types(), ", ")));
}

std::vector<std::string> SinkRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& entry : factories_) out.push_back(entry.first);
  return out;
}

}  // namespace faultline

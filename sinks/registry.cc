#include "sinks/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace faultline {

const settings::Schema<SinkEntry>& SinkEntry::Schema() {
  using settings::Bound;
  static const auto* schema =
      &(*new settings::Schema<SinkEntry>("The keys every sink has."))
           .String("type", &SinkEntry::type, "The sink type (the sections below).",
                   /*required=*/true)
           .String("name", &SinkEntry::name,
                   "Unique among the sinks: the log prefix, the metrics label and the spool "
                   "cursor. Default: the type (type-2, type-3 for more of one type).")
           .Integer("queue_capacity", &SinkEntry::queue_capacity, 1, 10'000'000,
                    "Alerts this sink's queue holds. Default: delivery.queue_capacity.")
           .Choice("on_full", &SinkEntry::drop_when_full,
                   std::vector<std::pair<std::string, std::optional<bool>>>{{"backpressure", false},
                                                                            {"drop", true}},
                   "When the queue is full: pause the Kafka partitions (nothing lost) or drop "
                   "new alerts (counted). Default: delivery.on_full.")
           .Duration("retry_backoff", &SinkEntry::retry_backoff, Bound::kPositive,
                     "The first wait after a retryable failure. Default: delivery.retry_backoff.")
           .Duration("retry_backoff_max", &SinkEntry::retry_backoff_max, Bound::kPositive,
                     "The longest wait between retries. Default: delivery.retry_backoff_max.");
  return *schema;
}

absl::StatusOr<std::unique_ptr<Sink>> SinkRegistry::Create(const SinkSpec& spec,
                                                           const SinkContext& ctx) const {
  const Entry* entry = Find(spec.entry.type);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown sink type \"", spec.entry.type,
                                            "\"; known: ", absl::StrJoin(names(), ", ")));
  }
  return entry->create(
      spec.settings.schema() == nullptr ? settings::AnySettings(*entry->schema) : spec.settings,
      ctx);
}

void SinkRegistry::ReadList(const YAML::Node& node, const std::string& path,
                            std::vector<SinkSpec>* out, settings::Problems& problems) const {
  if (!settings::ListNode(node, path, /*min_items=*/1, problems)) return;
  out->clear();
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    SinkSpec spec{.path = settings::Index(path, i)};
    if (item.IsDefined() && item.Mark().line >= 0) spec.line = item.Mark().line + 1;
    problems.Saw(spec.path, item);
    const YAML::Node type = item.IsMap() ? item["type"] : YAML::Node();
    const Entry* entry = type.IsDefined() && type.IsScalar() ? Find(type.Scalar()) : nullptr;
    if (item.IsMap() && type.IsDefined() && type.IsScalar() && entry == nullptr) {
      problems.Add(type, settings::Join(spec.path, "type"),
                   absl::StrCat("unknown sink type; known: ", absl::StrJoin(names(), ", ")));
      continue;
    }
    if (entry == nullptr) {
      // Without a type the other keys cannot be judged: one problem, not one per key.
      problems.Add(item, item.IsMap() ? settings::Join(spec.path, "type") : spec.path,
                   item.IsMap() ? absl::StrCat("required: one of ", absl::StrJoin(names(), ", "))
                                : std::string("must be a mapping with a type"));
      continue;
    }
    std::shared_ptr<void> settings = entry->schema->New();
    settings::ReadMapping(item, spec.path,
                          {{&SinkEntry::Schema(), &spec.entry}, {entry->schema, settings.get()}},
                          problems);
    spec.settings = settings::AnySettings(*entry->schema, std::move(settings));
    out->push_back(std::move(spec));
  }
}

settings::FieldInfo SinkRegistry::ListInfo(std::string key, std::string description) const {
  settings::FieldInfo info{.key = std::move(key),
                           .kind = settings::Kind::kVariantList,
                           .type = "list",
                           .description = std::move(description),
                           .min_items = 1,
                           .nested = &SinkEntry::Schema()};
  for (const Entry& e : entries()) info.variants.emplace_back(e.name, e.schema);
  return info;
}

}  // namespace faultline

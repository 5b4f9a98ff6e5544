#include "sinks/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace faultline {

const settings::Schema<SinkEntry>& SinkEntry::Schema() {
  static const auto* schema =
      &(*new settings::Schema<SinkEntry>("The keys every sink has."))
           .String("type", &SinkEntry::type, "The sink type (the sections below).",
                   /*required=*/true)
           .String("name", &SinkEntry::name,
                   "Unique among the sinks: the log prefix, the metrics label and the spool "
                   "cursor. Default: the type (type-2, type-3 for more of one type).")
           .Overriding(&SinkEntry::queue, &SinkEntry::queue_given, QueueOptions::Schema(),
                       "delivery");
  return *schema;
}

QueueOptions SinkEntry::QueueOver(const QueueOptions& delivery) const {
  QueueOptions q = delivery;
  QueueOptions::Schema().CopyKeys(queue, q, queue_given);
  q.name = name;
  return q;
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

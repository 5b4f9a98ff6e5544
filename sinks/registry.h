// The sink plugins this build knows, by type name, each with the schema of its settings. Filled
// by explicit calls from app/builtin.cc (one line per sink type).
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/plugin_registry.h"
#include "core/settings.h"
#include "sinks/sink.h"
#include "sinks/sink_worker.h"

namespace faultline {

// What a sink may need from its host process, so adding an injectable does not change every
// factory's signature.
struct SinkContext {
  std::FILE* stdout_stream = stdout;
  Clock* clock = &RealClock::Get();
  // kafka.brokers and kafka.properties of the configuration: the Kafka alerts sink's defaults.
  std::string kafka_brokers;
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  // check-config: validate everything, create nothing that connects or writes.
  bool dry_run = false;
  // With dry_run: also ask whether the host allows what the settings ask (a file sink's path is
  // writable), as check-config and replay do. run from Kafka does not refuse to start for it:
  // what the host refuses now (a read-only or missing disk) it may allow later, so the sink
  // starts and retries, each failure counted, nothing acknowledged meanwhile.
  bool check_paths = false;
};

// The keys every entry under `sinks:` has besides its type's own: its name and its queue's
// settings, each defaulting to the `delivery:` section's.
struct SinkEntry {
  std::string type;
  std::string name;                      // default: the type (type-2, type-3 for more of one type)
  QueueOptions queue;                    // read with QueueOptions::Schema()
  std::vector<std::string> queue_given;  // the keys of `queue` the entry gives

  static const settings::Schema<SinkEntry>& Schema();
  // `delivery`'s queue settings with those the entry gives in their place, named.
  QueueOptions QueueOver(const QueueOptions& delivery) const;
};

// One configured sink: its common keys and its type's settings (the struct its schema reads).
struct SinkSpec {
  SinkEntry entry;
  settings::AnySettings settings;  // none: the type's defaults
  std::string path;                // sinks[2], for messages
  int line = 0;
};

// Sink types by their `type:` name (core/plugin_registry.h). A factory gets the settings its
// schema read (already validated); what it can only find out by trying (a file that cannot be
// opened, a template that does not parse) it returns as an error beginning with the key it is
// about ("template: ...").
class SinkRegistry final : public PluginRegistry<Sink, SinkContext> {
 public:
  // Builds the sink `spec` describes; an error begins with the key it is about, the caller
  // places it (settings::Problems::AddLater).
  absl::StatusOr<std::unique_ptr<Sink>> Create(const SinkSpec& spec, const SinkContext& ctx) const;

  // Reads the list under `sinks:`: each entry's common keys and its type's own, every problem
  // with its line.
  void ReadList(const YAML::Node& node, const std::string& path, std::vector<SinkSpec>* out,
                settings::Problems& problems) const;
  // The FieldInfo of that list (for the reference and the JSON Schema).
  settings::FieldInfo ListInfo(std::string key, std::string description) const;
};

}  // namespace faultline

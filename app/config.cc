#include "app/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "app/builtin.h"
#include "core/settings_doc.h"
#include "sinks/file/file_sink.h"

namespace faultline {
namespace {

using settings::Bound;

const settings::Schema<EnvelopeOptions>& EnvelopeSchema() {
  static const auto* schema = [] {
    std::vector<std::pair<std::string, Envelope>> formats;
    for (const auto& [envelope, name] : EnvelopeNames()) formats.emplace_back(name, envelope);
    auto* s = new settings::Schema<EnvelopeOptions>("The forwarder envelope");
    s->Choice("format", &EnvelopeOptions::format, formats,
              "The forwarder's envelope; auto detects it per message. faultline_event: the "
              "protobuf events of `faultline rekey` (ingest.rekey_topic), never auto-detected.")
        .Parsed<absl::TimeZone>(
            "local_time_zone", &EnvelopeOptions::local_time_zone, "time zone", "UTC",
            [](const std::string& name, absl::TimeZone* out) -> std::string {
              if (absl::LoadTimeZone(name, out)) return "";
              return absl::StrCat("unknown time zone \"", name,
                                  "\" (an IANA name such as Europe/Berlin)");
            },
            "The zone of NXLog CE's zone-less EventTime (the forwarding host's local time).");
    return s;
  }();
  return *schema;
}

const settings::Schema<IngestConfig>& IngestSchema() {
  static const auto* schema =
      &(*new settings::Schema<IngestConfig>("How messages are read before detection."))
           .Integer("max_message_bytes", &IngestConfig::max_message_bytes, 1, 1 << 30,
                    "Larger messages are rejected as too_large before parsing.")
           .Inline(&IngestConfig::envelope, EnvelopeSchema())
           .String("dead_letter_topic", &IngestConfig::dead_letter_topic,
                   "Rejected messages go there (on kafka.brokers), with the reason and their "
                   "source partition and offset in headers; empty: they are only counted.")
           .String("rekey_topic", &IngestConfig::rekey_topic,
                   "`faultline rekey` writes every parsed event there (on kafka.brokers) as a "
                   "faultline.v1.Event keyed by host, for a `run` with format faultline_event "
                   "to read: for topics a forwarder does not key by host.")
           .String("pool_topic", &IngestConfig::pool_topic,
                   "Where `run` sends the failures the fleet detector counts, keyed by "
                   "application pool, and reads them back in its group (on kafka.brokers; any "
                   "number of partitions): a pool's failures from every instance's hosts meet in "
                   "one place, so several instances raise a fleet incident once. Empty: each "
                   "instance counts only the hosts of its own partitions.");
  return *schema;
}

const settings::Schema<DeliveryConfig>& DeliverySchema() {
  static const auto* schema =
      &(*new settings::Schema<DeliveryConfig>(
            "The dispatcher between detection and the sinks; queue and retry settings are "
            "defaults each sink may override."))
           .Inline(&DeliveryConfig::queue, QueueOptions::Schema())
           .Duration("shutdown_timeout", &DeliveryConfig::shutdown_timeout, Bound::kPositive,
                     "The deadline of a stop (SIGTERM): run stops fetching, and within it delivers "
                     "what is queued (records to Kafka topics, then alerts), then commits what "
                     "was delivered and leaves the group; the rest is read again at the next "
                     "start.")
           .String("spool_dir", &DeliveryConfig::spool_dir,
                   "Alerts are journaled here before their offsets are committed, and sent "
                   "after a restart if they were not delivered.");
  return *schema;
}

const settings::Schema<MetricsConfig>& MetricsSchema() {
  static const auto* schema =
      &(*new settings::Schema<MetricsConfig>("The Prometheus endpoint of run."))
           .Parsed<std::string>(
               "listen", &MetricsConfig::listen, "host:port", "",
               [](const std::string& text, std::string* out) -> std::string {
                 if (absl::Status s = ValidateListenAddress(text); !s.ok()) {
                   return std::string(s.message());
                 }
                 *out = text;
                 return "";
               },
               "Serves /metrics, /healthz and /readyz, e.g. 127.0.0.1:9464 (port 0: any free "
               "port); empty: no endpoint. Keep it on loopback unless Prometheus scrapes from "
               "another host, and then protect it with web_config_file.")
           .String("web_config_file", &MetricsConfig::web_config_file,
                   "A Prometheus exporter-toolkit web configuration file (node_exporter's "
                   "--web.config.file): tls_server_config (cert_file, key_file, "
                   "client_auth_type, client_ca_file, min_version, max_version) serves HTTPS "
                   "only; basic_auth_users (user: bcrypt hash) asks every path, /healthz and "
                   "/readyz included, for a user. Relative paths in it are relative to it. "
                   "Empty: plain HTTP, no authentication.");
  return *schema;
}

// What a sink's entry leaves unset comes from `delivery:`, so the retry bounds can only be
// checked once the whole file is read.
void CheckSinkQueues(const Config& c, settings::Checker& check) {
  for (const SinkSpec& spec : c.sinks) {
    // A sink that gives neither has delivery's, checked there.
    const std::vector<std::string>& given = spec.entry.queue_given;
    if (std::find(given.begin(), given.end(), "retry_backoff") == given.end() &&
        std::find(given.begin(), given.end(), "retry_backoff_max") == given.end()) {
      continue;
    }
    const QueueOptions q = spec.entry.QueueOver(c.delivery.queue);
    if (q.retry_backoff_max < q.retry_backoff) {
      check.Add({.line = spec.line,
                 .path = spec.path + ".retry_backoff_max",
                 .message = "must not be shorter than retry_backoff (delivery's, where unset)"});
    }
  }
}

}  // namespace

std::vector<SinkSpec> StdoutSinks(bool text) {
  auto settings = std::make_shared<FileSink::StdoutConfig>();
  settings->format = text ? FileSink::Format::kText : FileSink::Format::kJson;
  return {SinkSpec{
      .entry = {.type = "stdout"},
      .settings = settings::AnySettings(FileSink::StdoutConfig::Schema(), std::move(settings))}};
}

const settings::SchemaBase& ConfigSchema() {
  static const auto* schema = [] {
    auto* s = new settings::Schema<Config>("faultline's configuration file");
    const settings::SchemaBase& detect = BuiltinDetectors().DetectSchema();
    s->Section("kafka", &Config::kafka, KafkaSourceConfig::Schema())
        .Section("ingest", &Config::ingest, IngestSchema())
        .Add({.key = "detect",
              .kind = settings::Kind::kSection,
              .type = "section",
              .description = detect.description(),
              .nested = &detect},
             [&detect](Config& c, const YAML::Node& node, const std::string& path, settings::Seen&,
                       settings::Problems& problems) {
               settings::ReadMapping(node, path, {{&detect, &c.detect}}, problems);
             })
        .Section("delivery", &Config::delivery, DeliverySchema())
        .Section("metrics", &Config::metrics, MetricsSchema())
        .Add(BuiltinSinks().ListInfo(
                 "sinks",
                 "Where alerts go; every alert goes to every sink. Default: stdout "
                 "as JSON lines."),
             [](Config& c, const YAML::Node& node, const std::string& path, settings::Seen&,
                settings::Problems& problems) {
               BuiltinSinks().ReadList(node, path, &c.sinks, problems);
             })
        .Check(&CheckSinkQueues);
    return s;
  }();
  return *schema;
}

std::string ConfigReference() {
  return settings::MarkdownReference(
      ConfigSchema(),
      "# faultline configuration reference\n\n"
      "Generated by `faultline config-reference` from the schemas each component declares "
      "next to its code; a test keeps this file in sync. `faultline check-config FILE` "
      "checks a file against it and reports every problem at once with its line. Editors "
      "can validate as you type with `docs/faultline.schema.json` (`faultline config-reference "
      "--json-schema`). Durations are written as 90s, 5m, 1h30m; a secret can also be given as "
      "KEY_file (a file's content) or KEY_env (an environment variable).\n\n"
      "The top-level sections:\n\n");
}

absl::Status ValidateListenAddress(const std::string& listen) {
  if (listen.empty()) return absl::OkStatus();
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be host:port such as 127.0.0.1:9464 (0.0.0.0:9464 for every interface), got \"",
        listen, "\""));
  }
  return absl::OkStatus();
}

namespace {

// The YAML's syntax errors are the status; the settings' problems stay in the config.
absl::StatusOr<Config> ReadConfig(std::string_view yaml, std::string_view file) {
  Config config;
  config.file = std::string(file);
  settings::Problems& problems = config.problems;
  YAML::Node root = settings::LoadYaml(yaml, problems);
  if (!problems.empty()) return problems.ToStatus(file);
  try {  // the reader guards every node it reads; a yaml-cpp exception is still only a problem
    settings::ReadMapping(root, "", {{&ConfigSchema(), &config}}, problems);
  } catch (const YAML::Exception& e) {
    problems.Add(settings::Problem{
        .line = e.mark.line + 1, .column = e.mark.column + 1, .message = e.what()});
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file) {
  absl::StatusOr<Config> config = ReadConfig(yaml, file);
  if (config.ok()) {
    if (absl::Status s = config->problems.ToStatus(file); !s.ok()) return s;
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  }
  if (S_ISDIR(st.st_mode)) {  // a FIFO (--config <(envsubst ...)) is fine
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a file"));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  return ReadConfig(text.str(), path);
}

}  // namespace faultline

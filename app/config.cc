#include "app/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/strings.h"
#include "yaml-cpp/yaml.h"

namespace faultline {
namespace {

// Reads typed values out of a YAML tree, collecting every problem with its path instead of
// stopping at the first. yaml-cpp reports through exceptions; they stop here.
class Reader {
 public:
  // Checks that `node` is a map whose keys are all in `known`.
  bool Map(const YAML::Node& node, const std::string& path,
           std::initializer_list<std::string_view> known) {
    if (!node) return false;
    if (!node.IsMap()) {
      Error(path, "must be a mapping");
      return false;
    }
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>("");
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string names;
        for (std::string_view k : known)
          absl::StrAppend(&names, names.empty() ? "" : ", ", ToAbsl(k));
        Error(Join(path, key), absl::StrCat("unknown key (known: ", names, ")"));
      }
    }
    return true;
  }

  void String(const YAML::Node& node, const std::string& path, std::string* out) {
    if (!node) return;
    if (!node.IsScalar()) return Error(path, "must be a string");
    *out = node.Scalar();
  }

  void Bool(const YAML::Node& node, const std::string& path, bool* out) {
    if (!node) return;
    bool v;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      return Error(path, absl::StrCat("must be true or false, got \"", Text(node), "\""));
    }
    *out = v;
  }

  template <typename Int>
  void Integer(const YAML::Node& node, const std::string& path, Int* out) {
    if (!node) return;
    Int v;
    if (!node.IsScalar() || !YAML::convert<Int>::decode(node, v)) {
      return Error(path, absl::StrCat("must be a whole number, got \"", Text(node), "\""));
    }
    *out = v;
  }

  void Duration(const YAML::Node& node, const std::string& path, absl::Duration* out) {
    if (!node) return;
    absl::Duration d;
    if (!node.IsScalar() || !absl::ParseDuration(node.Scalar(), &d)) {
      return Error(path, absl::StrCat("must be a duration such as 90s, 5m or 1h30m, got \"",
                                      Text(node), "\""));
    }
    *out = d;
  }

  void IntegerList(const YAML::Node& node, const std::string& path, std::vector<uint32_t>* out) {
    if (!node) return;
    if (!node.IsSequence()) return Error(path, "must be a list of event ids");
    out->clear();
    for (size_t i = 0; i < node.size(); ++i) {
      uint32_t v;
      if (!node[i].IsScalar() || !YAML::convert<uint32_t>::decode(node[i], v)) {
        Error(absl::StrCat(path, "[", i, "]"), "must be an event id");
        continue;
      }
      out->push_back(v);
    }
  }

  void StringList(const YAML::Node& node, const std::string& path, std::vector<std::string>* out) {
    if (!node) return;
    if (node.IsScalar()) {
      *out = {node.Scalar()};
      return;
    }
    if (!node.IsSequence()) return Error(path, "must be a string or a list of strings");
    out->clear();
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar()) {
        Error(absl::StrCat(path, "[", i, "]"), "must be a string");
        continue;
      }
      out->push_back(node[i].Scalar());
    }
  }

  template <typename MapLike>
  void StringMap(const YAML::Node& node, const std::string& path, MapLike* out) {
    if (!node) return;
    if (!node.IsMap()) return Error(path, "must be a mapping of strings");
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>("");
      if (!kv.second.IsScalar()) {
        Error(Join(path, key), "must be a string");
        continue;
      }
      out->insert(out->end(), {key, kv.second.Scalar()});
    }
  }

  void Error(const std::string& path, std::string_view message) {
    errors_.push_back(absl::StrCat(path, ": ", ToAbsl(message)));
  }
  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", ToAbsl(key));
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  static std::string Text(const YAML::Node& node) {
    return node.IsScalar() ? node.Scalar() : "<not a scalar>";
  }
  std::vector<std::string> errors_;
};

void ReadKafka(Reader& r, const YAML::Node& node, KafkaSourceConfig* k) {
  if (!r.Map(
          node, "kafka",
          {"brokers", "topics", "group_id", "group_instance_id", "client_id", "auto_offset_reset",
           "commit_interval", "queued_max_messages_kbytes", "properties"})) {
    return;
  }
  r.String(node["brokers"], "kafka.brokers", &k->brokers);
  r.StringList(node["topics"], "kafka.topics", &k->topics);
  r.String(node["group_id"], "kafka.group_id", &k->group_id);
  r.String(node["group_instance_id"], "kafka.group_instance_id", &k->group_instance_id);
  r.String(node["client_id"], "kafka.client_id", &k->client_id);
  r.String(node["auto_offset_reset"], "kafka.auto_offset_reset", &k->auto_offset_reset);
  if (k->auto_offset_reset != "earliest" && k->auto_offset_reset != "latest") {
    r.Error("kafka.auto_offset_reset",
            absl::StrCat("must be earliest or latest, got \"", k->auto_offset_reset, "\""));
  }
  r.Duration(node["commit_interval"], "kafka.commit_interval", &k->commit_interval);
  if (k->commit_interval <= absl::ZeroDuration()) {
    r.Error("kafka.commit_interval", "must be positive");
  }
  r.Integer(node["queued_max_messages_kbytes"], "kafka.queued_max_messages_kbytes",
            &k->queued_max_messages_kbytes);
  if (k->queued_max_messages_kbytes < 0) {
    r.Error("kafka.queued_max_messages_kbytes", "must be 0 (chosen by librdkafka version) or more");
  }
  r.StringMap(node["properties"], "kafka.properties", &k->properties);
}

void ReadRapidFail(Reader& r, const YAML::Node& rf, const std::string& p, RapidFailConfig* c) {
  if (!r.Map(rf, p,
             {"max_crashes", "interval", "burst_threshold", "correlation_window",
              "disabled_resolve_after", "failure_events", "rules", "overrides"})) {
    return;
  }
  r.Integer(rf["max_crashes"], p + ".max_crashes", &c->max_crashes);
  r.Duration(rf["interval"], p + ".interval", &c->interval);
  r.Integer(rf["burst_threshold"], p + ".burst_threshold", &c->burst_threshold);
  r.Duration(rf["correlation_window"], p + ".correlation_window", &c->correlation_window);
  r.Duration(rf["disabled_resolve_after"], p + ".disabled_resolve_after",
             &c->disabled_resolve_after);
  r.IntegerList(rf["failure_events"], p + ".failure_events", &c->failure_events);
  const YAML::Node rules = rf["rules"];
  if (r.Map(rules, p + ".rules",
            {"iis_worker_failure_burst", "iis_rapid_fail_imminent", "iis_app_pool_disabled"})) {
    r.Bool(rules["iis_worker_failure_burst"], p + ".rules.iis_worker_failure_burst",
           &c->burst_enabled);
    r.Bool(rules["iis_rapid_fail_imminent"], p + ".rules.iis_rapid_fail_imminent",
           &c->imminent_enabled);
    r.Bool(rules["iis_app_pool_disabled"], p + ".rules.iis_app_pool_disabled",
           &c->disabled_enabled);
  }
  const YAML::Node overrides = rf["overrides"];
  if (!overrides) return;
  if (!overrides.IsSequence()) return r.Error(p + ".overrides", "must be a list");
  for (size_t i = 0; i < overrides.size(); ++i) {
    const std::string op = absl::StrCat(p, ".overrides[", i, "]");
    const YAML::Node o = overrides[i];
    if (!r.Map(o, op, {"host", "app_pool", "max_crashes", "interval", "burst_threshold"})) {
      continue;
    }
    RapidFailOverride ov;
    r.String(o["host"], op + ".host", &ov.host);
    r.String(o["app_pool"], op + ".app_pool", &ov.app_pool);
    if (o["max_crashes"])
      r.Integer(o["max_crashes"], op + ".max_crashes", &ov.max_crashes.emplace());
    if (o["interval"]) r.Duration(o["interval"], op + ".interval", &ov.interval.emplace());
    if (o["burst_threshold"]) {
      r.Integer(o["burst_threshold"], op + ".burst_threshold", &ov.burst_threshold.emplace());
    }
    c->overrides.push_back(std::move(ov));
  }
}

void ReadDetect(Reader& r, const YAML::Node& node, DetectConfig* d) {
  if (!r.Map(node, "detect",
             {"labels", "dedupe_window", "allowed_lateness", "max_clock_skew", "max_event_age",
              "renotify_interval", "max_keys", "max_hosts", "iis_rapid_fail", "service_crash_loop",
              "fleet_app_pool_failures"})) {
    return;
  }
  r.StringMap(node["labels"], "detect.labels", &d->labels);
  for (auto [name, field] : {std::pair{"dedupe_window", &d->dedupe_window},
                             std::pair{"allowed_lateness", &d->allowed_lateness},
                             std::pair{"max_clock_skew", &d->max_clock_skew},
                             std::pair{"max_event_age", &d->max_event_age},
                             std::pair{"renotify_interval", &d->renotify_interval}}) {
    const std::string path = absl::StrCat("detect.", name);
    r.Duration(node[name], path, field);
    if (*field < absl::ZeroDuration()) r.Error(path, "must not be negative");
  }
  r.Integer(node["max_keys"], "detect.max_keys", &d->max_keys);
  r.Integer(node["max_hosts"], "detect.max_hosts", &d->max_hosts);
  if (d->max_hosts < 1) {
    r.Error("detect.max_hosts", absl::StrCat("must be at least 1, got ", d->max_hosts));
  }
  ReadRapidFail(r, node["iis_rapid_fail"], "detect.iis_rapid_fail", &d->iis_rapid_fail);
  const YAML::Node scl = node["service_crash_loop"];
  if (r.Map(scl, "detect.service_crash_loop",
            {"enabled", "threshold", "window", "events", "overrides"})) {
    const YAML::Node overrides = scl["overrides"];
    if (overrides && !overrides.IsSequence()) {
      r.Error("detect.service_crash_loop.overrides", "must be a list");
    }
    for (size_t i = 0; overrides && overrides.IsSequence() && i < overrides.size(); ++i) {
      const std::string op = absl::StrCat("detect.service_crash_loop.overrides[", i, "]");
      const YAML::Node o = overrides[i];
      if (!r.Map(o, op, {"host", "service", "threshold", "window"})) continue;
      ServiceCrashLoopOverride ov;
      r.String(o["host"], op + ".host", &ov.host);
      r.String(o["service"], op + ".service", &ov.service);
      if (o["threshold"]) r.Integer(o["threshold"], op + ".threshold", &ov.threshold.emplace());
      if (o["window"]) r.Duration(o["window"], op + ".window", &ov.window.emplace());
      d->service_crash_loop.overrides.push_back(std::move(ov));
    }
    r.IntegerList(scl["events"], "detect.service_crash_loop.events", &d->service_crash_loop.events);
    r.Bool(scl["enabled"], "detect.service_crash_loop.enabled", &d->service_crash_loop.enabled);
    r.Integer(scl["threshold"], "detect.service_crash_loop.threshold",
              &d->service_crash_loop.threshold);
    r.Duration(scl["window"], "detect.service_crash_loop.window", &d->service_crash_loop.window);
  }
  const YAML::Node fleet = node["fleet_app_pool_failures"];
  if (r.Map(fleet, "detect.fleet_app_pool_failures",
            {"enabled", "min_hosts", "window", "overrides"})) {
    FleetConfig& f = d->fleet_app_pool_failures;
    const YAML::Node overrides = fleet["overrides"];
    if (overrides && !overrides.IsSequence()) {
      r.Error("detect.fleet_app_pool_failures.overrides", "must be a list");
    }
    for (size_t i = 0; overrides && overrides.IsSequence() && i < overrides.size(); ++i) {
      const std::string op = absl::StrCat("detect.fleet_app_pool_failures.overrides[", i, "]");
      const YAML::Node o = overrides[i];
      if (!r.Map(o, op, {"app_pool", "min_hosts", "window"})) continue;
      FleetOverride ov;
      r.String(o["app_pool"], op + ".app_pool", &ov.app_pool);
      if (o["min_hosts"]) r.Integer(o["min_hosts"], op + ".min_hosts", &ov.min_hosts.emplace());
      if (o["window"]) r.Duration(o["window"], op + ".window", &ov.window.emplace());
      f.overrides.push_back(std::move(ov));
    }
    r.Bool(fleet["enabled"], "detect.fleet_app_pool_failures.enabled", &f.enabled);
    r.Integer(fleet["min_hosts"], "detect.fleet_app_pool_failures.min_hosts", &f.min_hosts);
    r.Duration(fleet["window"], "detect.fleet_app_pool_failures.window", &f.window);
  }
}

void ReadSinks(Reader& r, const YAML::Node& node, std::vector<SinkSpec>* sinks) {
  if (!node) return;
  if (!node.IsSequence()) return r.Error("sinks", "must be a list of sinks");
  sinks->clear();
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = absl::StrCat("sinks[", i, "]");
    const YAML::Node s = node[i];
    if (!s.IsMap() || !s["type"] || !s["type"].IsScalar()) {
      r.Error(path, "must be a mapping with a type");
      continue;
    }
    SinkSpec spec{.type = s["type"].Scalar()};
    // Values are strings, lists of strings or maps of strings; each sink's factory reads them
    // with their types and reports unknown ones (sinks/options.h).
    for (const auto& kv : s) {
      const std::string key = kv.first.as<std::string>("");
      if (key == "type") continue;
      const YAML::Node v = kv.second;
      if (v.IsScalar()) {
        spec.options[key] = v.Scalar();
      } else if (v.IsSequence()) {
        std::vector<std::string> items;
        r.StringList(v, Reader::Join(path, key), &items);
        spec.options[key] = OptionValue::List(std::move(items));
      } else if (v.IsMap()) {
        std::map<std::string, std::string> items;
        r.StringMap(v, Reader::Join(path, key), &items);
        spec.options[key] = OptionValue::Map(std::move(items));
      } else if (v.IsNull()) {
        r.Error(Reader::Join(path, key), "has no value");
      }
    }
    sinks->push_back(std::move(spec));
  }
}

void ReadDelivery(Reader& r, const YAML::Node& node, DeliveryConfig* d) {
  if (!r.Map(node, "delivery",
             {"queue_capacity", "on_full", "retry_backoff", "retry_backoff_max", "shutdown_timeout",
              "spool_dir"})) {
    return;
  }
  r.Integer(node["queue_capacity"], "delivery.queue_capacity", &d->queue_capacity);
  if (d->queue_capacity == 0) r.Error("delivery.queue_capacity", "must be positive");
  std::string on_full = d->drop_when_full ? "drop" : "backpressure";
  r.String(node["on_full"], "delivery.on_full", &on_full);
  if (on_full != "backpressure" && on_full != "drop") {
    r.Error("delivery.on_full",
            absl::StrCat("must be backpressure or drop, got \"", on_full, "\""));
  }
  d->drop_when_full = on_full == "drop";
  for (auto [name, field] : {std::pair{"retry_backoff", &d->retry_backoff},
                             std::pair{"retry_backoff_max", &d->retry_backoff_max},
                             std::pair{"shutdown_timeout", &d->shutdown_timeout}}) {
    const std::string path = absl::StrCat("delivery.", name);
    r.Duration(node[name], path, field);
    if (*field <= absl::ZeroDuration()) r.Error(path, "must be positive");
  }
  if (d->retry_backoff_max < d->retry_backoff) {
    r.Error("delivery.retry_backoff_max", "must not be shorter than retry_backoff");
  }
  r.String(node["spool_dir"], "delivery.spool_dir", &d->spool_dir);
}

}  // namespace

absl::Status ValidateListenAddress(const std::string& listen) {
  if (listen.empty()) return absl::OkStatus();
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be host:port such as 0.0.0.0:9464 or 127.0.0.1:9464, got \"", listen, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config is not valid YAML (line ", e.mark.line + 1, "): ", e.msg));
  }
  Config config;
  if (root.IsNull()) return config;  // an empty file means all defaults
  Reader r;
  try {
    if (r.Map(root, "", {"kafka", "ingest", "detect", "delivery", "metrics", "sinks"})) {
      ReadKafka(r, root["kafka"], &config.kafka);
      const YAML::Node ingest = root["ingest"];
      if (r.Map(ingest, "ingest",
                {"max_message_bytes", "format", "local_time_zone", "dead_letter_topic"})) {
        r.String(ingest["dead_letter_topic"], "ingest.dead_letter_topic",
                 &config.dead_letter_topic);
        r.Integer(ingest["max_message_bytes"], "ingest.max_message_bytes",
                  &config.max_message_bytes);
        if (config.max_message_bytes == 0) r.Error("ingest.max_message_bytes", "must be positive");
        std::string format = "auto", zone = "UTC";
        r.String(ingest["format"], "ingest.format", &format);
        if (!ParseEnvelopeName(format, &config.envelope.format)) {
          r.Error("ingest.format",
                  absl::StrCat("must be auto, winlogbeat, winlogbeat6, nxlog, fluentbit_winevtlog, "
                               "fluentbit_winlog or xml, got \"",
                               format, "\""));
        }
        r.String(ingest["local_time_zone"], "ingest.local_time_zone", &zone);
        if (!absl::LoadTimeZone(zone, &config.envelope.local_time_zone)) {
          r.Error("ingest.local_time_zone",
                  absl::StrCat("unknown time zone \"", zone,
                               "\" (an IANA name such as Europe/Berlin)"));
        }
      }
      ReadDetect(r, root["detect"], &config.detect);
      ReadDelivery(r, root["delivery"], &config.delivery);
      if (r.Map(root["metrics"], "metrics", {"listen"})) {
        r.String(root["metrics"]["listen"], "metrics.listen", &config.metrics.listen);
        if (absl::Status s = ValidateListenAddress(config.metrics.listen); !s.ok()) {
          r.Error("metrics.listen", std::string(s.message()));
        }
      }
      ReadSinks(r, root["sinks"], &config.sinks);
    }
  } catch (const YAML::Exception& e) {
    r.Error("", e.what());
  }
  if (!r.errors().empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(r.errors(), "\n"));
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Config> config = ParseConfig(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ":\n", config.status().message()));
  }
  return config;
}

}  // namespace faultline

#include "app/cli.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "app/build_info.h"
#include "app/builtin.h"
#include "app/config.h"
#include "app/demo/demo.h"
#include "app/flags.h"
#include "app/service.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/printable.h"
#include "core/settings_doc.h"
#include "core/strings.h"
#include "core/version.h"
#include "detect/sigma/sigma_detector.h"
#include "ingest/parse/envelope_parser.h"
#include "ingest/parse/json_value.h"

namespace faultline {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

// SIGINT and SIGTERM stop the command cleanly (the service drains, delivers and commits).
void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Says what went wrong (with the usage, for a usage error) and returns the exit status.
int Finish(const absl::Status& status, const CommandLine& command_line) {
  if (status.ok()) return 0;
  const std::string message(status.message());
  if (IsUsageError(status)) {
    std::fprintf(stderr, "faultline: %s\n\n%s", message.c_str(), Usage(command_line).c_str());
  } else if (ExitCode(status) == 2) {
    // A bad configuration or input: not a matter of flags, so no usage.
    std::fprintf(stderr, "faultline: %s\n", message.c_str());
  } else {
    LogError(message);
  }
  return ExitCode(status);
}

// Parses `args` against `command_line` and runs `body`: --help prints the usage and exits 0.
int Execute(const CommandLine& command_line, const std::vector<std::string>& args,
            const std::function<absl::Status()>& body) {
  if (WantsHelp(args)) {
    std::fputs(Usage(command_line).c_str(), stdout);
    return 0;
  }
  if (absl::Status s = ParseCommandLine(command_line, args); !s.ok()) {
    return Finish(s, command_line);
  }
  return Finish(body(), command_line);
}

Flag QuietFlag(std::string help) {
  return {.name = "--quiet", .help = std::move(help), .set = [](const std::string&) {
            SetLogLevel(LogLevel::kWarning);
            return absl::OkStatus();
          }};
}

// Runs `service` and prints its summary on stderr as the last line.
absl::Status RunAndSummarize(Service& service, std::string_view prefix = "") {
  InstallSignalHandlers();
  absl::Status status = service.Run(g_stop);
  std::fprintf(stderr, "%s%s\n", std::string(prefix).c_str(), service.SummaryJson().c_str());
  return status;
}

int Replay(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::string config_path, format = "json";
  const CommandLine command_line{
      .command = "replay",
      .synopsis = "FILE... [--config FILE] [--format json|text]",
      .description =
          R"(Reads forwarder messages (one Windows event per line: any supported JSON envelope, or event XML)
from the files, or from stdin for "-", runs the detectors in event time and prints the alerts on
stdout, one JSON object per line (--format text for a readable form). A replay of last month
behaves exactly like live traffic: use it to backtest thresholds. On a terminal, progress goes
to stderr every 5 seconds.

As its last line on stderr it prints a summary:
  {"events":N,"parsed":N,"rejected":N,"rejected_by_reason":{...},"duplicates":N,"too_late":N,
   "alerts":N,"alerts_by_rule":{...},"state_keys":N,"state_evictions":N,"sink_failures":N}
Malformed lines are counted by reason, never fatal. Exit status: 0 on success, 2 for bad
arguments, an unreadable file or a bad config, 1 for a read error or an alert not delivered.
)",
      .flags = {StringFlag("--config", "FILE",
                           "Detection settings (kafka, sinks, metrics, delivery.spool_dir and "
                           "ingest.dead_letter_topic are ignored).",
                           &config_path),
                ChoiceFlag("--format", {"json", "text"},
                           "The alerts as JSON lines (default) or readable text.", &format),
                QuietFlag("No informational messages on stderr (the summary is still printed).")},
      .operand = [&](const std::string& file) {
        files.push_back(file);
        return absl::OkStatus();
      }};
  return Execute(command_line, args, [&]() -> absl::Status {
    if (files.empty()) return UsageError("no input files (use - for stdin)");
    Config config;
    if (!config_path.empty()) {
      absl::StatusOr<Config> loaded = LoadConfigFile(config_path);
      if (!loaded.ok()) return loaded.status();
      config = *std::move(loaded);
    }
    config.sinks = StdoutSinks(/*text=*/format == "text");
    absl::StatusOr<std::unique_ptr<Service>> service = Service::Create(
        config,
        {.input = ServiceOptions::Input::kFiles,
         .files = files,
         // A person watching a long backtest sees it move; a pipe gets only the summary.
         .progress_every = isatty(STDERR_FILENO) ? absl::Seconds(5) : absl::ZeroDuration()});
    if (!service.ok()) return service.status();
    return RunAndSummarize(**service);
  });
}

constexpr char kRunDescription[] =
    R"(Consumes Windows events from Kafka as a member of a consumer group, detects incidents and
delivers alerts to the configured sinks (stdout, file, webhook, pagerduty, slack, alertmanager,
kafka, teams, opsgenie), each from its own queue and thread, retrying what failed with backoff.
kafka.workers worker threads (default 0: one per core, one without ingest.pool_topic while the
fleet detector is on) each join the group as a member of their own and take their share of the
partitions. Runs until SIGINT or SIGTERM: then it stops fetching, delivers what is queued
within delivery.shutdown_timeout, commits what was delivered, leaves the group and exits 0.
Exit status: 1 for a runtime failure (a fatal Kafka error, a metrics address that cannot be
bound; with --exit-at-end, alerts left undelivered or refused for good by a sink: said on
stderr), 2 for bad arguments or a bad configuration.

Nothing is lost: an event's offset is committed only once the alerts it raised are delivered by
every sink (or journaled in delivery.spool_dir, which is then delivered after a restart). While
a sink's queue is full, consumption pauses (delivery.on_full: backpressure).

The options below override the configuration file's settings.
)";

constexpr char kRekeyDescription[] =
    R"(For topics a forwarder does not key by host (a host's events spread over every partition, so no
one member sees all of them): consumes them as a member of a consumer group like `run`, parses
every message once, and publishes the event to ingest.rekey_topic as a faultline.v1.Event
(protobuf, proto/event.proto) keyed by host, with the message's Kafka timestamp. Point `run` at
that topic with ingest.format: faultline_event (and its own kafka.group_id) to detect on it.

Rejects are counted and dead-lettered as in `run`; a message is committed once its event is on
the topic (at-least-once: `run` drops a record seen twice within detect.dedupe_window). The
detect, delivery and sinks sections are not used. Runs until SIGINT or SIGTERM, then flushes,
commits and exits 0; exit status 1 for a runtime failure, 2 for bad arguments or configuration.

The options below override the configuration file's settings.
)";

// `run` and `rekey`: a consumer-group member in the given role.
int Consume(const std::vector<std::string>& args, ServiceOptions::Role role) {
  std::string config_path, brokers, group, metrics_listen;
  std::vector<std::string> topics;
  bool exit_at_end = false;
  absl::Duration progress_every = absl::Seconds(30);
  const CommandLine command_line{
      .command = role == ServiceOptions::Role::kRekey ? "rekey" : "run",
      .synopsis = "--config FILE [options]",
      .description = role == ServiceOptions::Role::kRekey ? kRekeyDescription : kRunDescription,
      .flags = {StringFlag("--config", "FILE",
                           "The YAML configuration (docs/CONFIGURATION.md; a starting point: "
                           "deploy/faultline.example.yaml).",
                           &config_path),
                StringFlag("--brokers", "LIST", "kafka.brokers, e.g. 127.0.0.1:9092.", &brokers),
                ListFlag("--topic", "NAME", "kafka.topics (repeat it for several).", &topics),
                StringFlag("--group", "ID", "kafka.group_id.", &group),
                {.name = "--metrics-listen",
                 .value = "ADDR",
                 .help = "metrics.listen: serve /metrics, /healthz and /readyz on host:port.",
                 .set =
                     [&](const std::string& v) {
                       metrics_listen = v;
                       return ValidateListenAddress(v);
                     }},
                SwitchFlag("--exit-at-end",
                           "Stop once every assigned partition is consumed to its end (backfills; "
                           "several workers stop together once the group has read every topic).",
                           &exit_at_end),
                DurationFlag("--progress-every", "D",
                             "A progress line on stderr every D (default 30s; 0 disables).",
                             &progress_every),
                QuietFlag("Only warnings and errors on stderr.")}};
  return Execute(command_line, args, [&]() -> absl::Status {
    if (config_path.empty()) return UsageError("--config is required");
    absl::StatusOr<Config> config = LoadConfigFile(config_path);
    if (!config.ok()) return config.status();
    if (!brokers.empty()) config->kafka.brokers = brokers;
    if (!topics.empty()) config->kafka.topics = topics;
    if (!group.empty()) config->kafka.group_id = group;
    if (!metrics_listen.empty()) config->metrics.listen = metrics_listen;
    config->kafka.stop_at_end = exit_at_end;
    absl::StatusOr<std::unique_ptr<Service>> service =
        Service::Create(*config, {.input = ServiceOptions::Input::kKafka,
                                  .role = role,
                                  .durable = true,
                                  .progress_every = progress_every});
    if (!service.ok()) return service.status();
    return RunAndSummarize(**service);
  });
}

int Run(const std::vector<std::string>& args) {
  return Consume(args, ServiceOptions::Role::kDetect);
}

int Rekey(const std::vector<std::string>& args) {
  return Consume(args, ServiceOptions::Role::kRekey);
}

int CheckConfig(const std::vector<std::string>& args) {
  std::string file;
  const CommandLine command_line{
      .command = "check-config",
      .synopsis = "FILE",
      .description =
          R"(Validates a configuration file the way `run` would, and builds every detector and sink from it
without connecting anywhere. Every error is reported at once, with its line and key path.
Exit status: 0 valid, 2 invalid.
)",
      .operand = [&](const std::string& f) {
        if (!file.empty()) return absl::InvalidArgumentError("expected exactly one FILE");
        file = f;
        return absl::OkStatus();
      }};
  return Execute(command_line, args, [&]() -> absl::Status {
    if (file.empty()) return UsageError("expected exactly one FILE");
    absl::StatusOr<Config> config = LoadConfigFile(file);
    if (!config.ok()) return config.status();
    absl::StatusOr<std::unique_ptr<Service>> service =
        Service::Create(*config, {.input = ServiceOptions::Input::kNone, .durable = true});
    if (!service.ok()) {
      return absl::Status(service.status().code(),
                          absl::StrCat(file, ": invalid\n", service.status().message()));
    }
    std::vector<std::string> detectors, sinks;
    for (const auto& d : (*service)->pipeline().detectors()) detectors.emplace_back(d->name());
    for (const Dispatcher::SinkInfo& s : (*service)->pipeline().dispatcher().sinks()) {
      sinks.push_back(s.name == s.type ? s.name : absl::StrCat(s.name, " (", s.type, ")"));
    }
    const bool has_kafka = !config->kafka.brokers.empty() || !config->kafka.topics.empty();
    std::printf("%s: ok; detectors: %s; sinks: %s%s\n", file.c_str(),
                absl::StrJoin(detectors, ", ").c_str(), absl::StrJoin(sinks, ", ").c_str(),
                has_kafka ? ""
                          : "; no kafka section (fine for replay; run needs kafka.brokers and "
                            "kafka.topics)");
    return absl::OkStatus();
  });
}

int Demo(const std::vector<std::string>& args) {
  bool json = false;
  const CommandLine command_line{
      .command = "demo",
      .synopsis = "[--json]",
      .description =
          R"(Runs faultline end to end with nothing to install: starts librdkafka's in-process mock Kafka
cluster, publishes a bundled real-shaped incident (Exchange's MSExchangeOWAAppPool failing: a
worker stack overflow seen by WAS 5009 and Application Error 1000, four WAS 5011 within two
minutes, then WAS 5002 as IIS rapid-fail protection disables the pool) as Winlogbeat 8 JSON,
consumes it through the same Kafka source as `faultline run`, and prints the alerts.
)",
      .flags = {SwitchFlag(
          "--json", "Print the alerts as JSON lines (the stable alert shape) instead of text.",
          &json)}};
  return Execute(command_line, args, [&] {
    InstallSignalHandlers();
    return RunDemo(json, g_stop);
  });
}

int ConfigReferenceCommand(const std::vector<std::string>& args) {
  bool json_schema = false;
  const CommandLine command_line{
      .command = "config-reference",
      .synopsis = "[--json-schema]",
      .description =
          "Every setting of the configuration file with its type, default and meaning "
          "(docs/CONFIGURATION.md is this output).\n",
      .flags = {SwitchFlag(
          "--json-schema",
          "The JSON Schema of the file instead, for editors (docs/faultline.schema.json).",
          &json_schema)}};
  return Execute(command_line, args, [&] {
    std::fputs(json_schema ? settings::JsonSchema(ConfigSchema(), "faultline configuration").c_str()
                           : ConfigReference().c_str(),
               stdout);
    return absl::OkStatus();
  });
}

// `faultline sigma check PATH...`: what a rule directory gives the sigma detector.
int SigmaCheck(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::string config_file;
  bool skipped_only = false;
  const CommandLine command_line{
      .command = "sigma check",
      .synopsis = "PATH... [--config FILE] [--skipped-only]",
      .description =
          R"(Loads Sigma rules (files or directories, read recursively: *.yml, *.yaml; several documents
per file too) as the sigma detector would and prints, per rule, "loaded" (with the channels and
event ids it is routed by) or "skipped" and why, then a total and the reasons by count. A rule
that uses something faultline cannot evaluate is skipped, never a failure.
Exit status: 0 (whatever was skipped), 2 if a PATH does not exist or the configuration is bad.
)",
      .flags = {StringFlag("--config", "FILE",
                           "Take the |expand placeholders from this configuration's "
                           "detect.sigma.placeholders.",
                           &config_file),
                SwitchFlag("--skipped-only", "Print only the skipped rules, and the total.",
                           &skipped_only)},
      .operand = [&](const std::string& p) {
        paths.push_back(p);
        return absl::OkStatus();
      }};
  return Execute(command_line, args, [&]() -> absl::Status {
    if (paths.empty()) return UsageError("expected at least one PATH");
    SigmaConfig sigma;
    if (!config_file.empty()) {
      absl::StatusOr<Config> config = LoadConfigFile(config_file);
      if (!config.ok()) return config.status();
      if (absl::Status s = config->problems.ToStatus(config_file); !s.ok()) return s;
      if (const auto it = config->detect.detectors.find("sigma");
          it != config->detect.detectors.end()) {
        if (const SigmaConfig* read = it->second.As(SigmaConfig::Schema())) sigma = *read;
      }
    }
    sigma.rules = paths;
    absl::StatusOr<sigma::RuleSet> set = SigmaDetector::Load(sigma);
    if (!set.ok()) return absl::NotFoundError(set.status().message());
    std::string out;
    if (!skipped_only) {
      for (const sigma::Rule& r : set->rules) {
        std::vector<std::string> ids;
        for (uint32_t id : r.event_ids) ids.push_back(absl::StrCat(id));
        absl::StrAppend(
            &out, "loaded   ", Printable(r.file), ":", r.line, "  ", Printable(r.title), "  [",
            r.channels.empty() ? "any channel" : absl::StrJoin(r.channels, ", "), "; ",
            ids.empty() ? "any id" : absl::StrJoin(ids, ","), "]",
            r.filters.empty() ? "" : absl::StrCat(" (", r.filters.size(), " filter(s))"), "\n");
      }
    }
    if (!skipped_only) {
      for (const sigma::Correlation& c : set->correlations) {
        std::vector<std::string> refs;
        for (const sigma::Correlation::Reference& r : c.refs) {
          refs.push_back(r.correlation ? set->correlations[r.index].title
                                       : set->rules[r.index].title);
        }
        absl::StrAppend(&out, "loaded   ", Printable(c.file), ":", c.line, "  ", Printable(c.title),
                        "  [correlation over ", Printable(absl::StrJoin(refs, ", ")), " within ",
                        absl::FormatDuration(c.timespan),
                        c.group_by.empty()
                            ? ""
                            : absl::StrCat(" by ", Printable(absl::StrJoin(c.group_by, ", "))),
                        "]\n");
      }
    }
    std::map<std::string, size_t> reasons;
    for (const sigma::Skipped& k : set->skipped) {
      absl::StrAppend(&out, "skipped  ", Printable(k.file), ":", k.line, "  ",
                      Printable(k.title.empty() ? "(file)" : k.title), ": ", Printable(k.reason),
                      "\n");
      ++reasons[k.reason];
    }
    absl::StrAppend(&out, "total: ", set->files, " file(s), ", set->rules.size(), " rule(s) and ",
                    set->correlations.size(), " correlation(s) loaded, ", set->skipped.size(),
                    " skipped, ", set->filters, " filter(s)\n");
    std::vector<std::pair<size_t, std::string>> by_count;
    by_count.reserve(reasons.size());
    for (const auto& [reason, n] : reasons) by_count.emplace_back(n, reason);
    std::sort(by_count.begin(), by_count.end(), std::greater<>());
    for (const auto& [n, reason] : by_count) {
      absl::StrAppend(&out, absl::StrFormat("  %5d  %s\n", n, Printable(reason)));
    }
    std::fputs(out.c_str(), stdout);
    return absl::OkStatus();
  });
}

// `faultline sigma match --rules PATH FILE...`: which rules each event of a file matches.
int SigmaMatch(const std::vector<std::string>& args) {
  std::vector<std::string> rules, files;
  const CommandLine command_line{
      .command = "sigma match",
      .synopsis = "--rules PATH... FILE...",
      .description =
          R"(Evaluates Sigma rules on the events of FILEs, each event on its own (no correlation, no
incident lifecycle: what the sigma detector's matcher says of it), and prints one JSON line per
event: {"file", "event" (its number in the file, from 0), "host", "event_id", "record_id",
"rules" (the ids, or titles, of the rules it matches)}. A FILE holds JSON documents one after
another (JSON lines, or evtx_dump's pretty-printed output) in any envelope faultline reads.
A document that does not parse is reported on stderr and counted, the rest go on.
Exit status: 0, 1 if some document did not parse, 2 for a bad PATH or FILE.
)",
      .flags = {ListFlag("--rules", "PATH", "Rule files or directories (repeatable).", &rules)},
      .operand = [&](const std::string& f) {
        files.push_back(f);
        return absl::OkStatus();
      }};
  return Execute(command_line, args, [&]() -> absl::Status {
    if (rules.empty() || files.empty()) return UsageError("expected --rules PATH and a FILE");
    SigmaConfig config;
    config.rules = rules;
    absl::StatusOr<sigma::RuleSet> set = SigmaDetector::Load(config);
    if (!set.ok()) return absl::NotFoundError(set.status().message());
    sigma::Matcher matcher(*set);
    EnvelopeOptions options;
    options.all_fields = true;
    EnvelopeParser parser(options);
    Event event;
    size_t bad = 0;
    for (const std::string& file : files) {
      std::ifstream in(file, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat(file, ": cannot be read"));
      std::stringstream buffer;
      buffer << in.rdbuf();
      const std::string text = buffer.str();
      size_t index = 0;
      for (std::string_view doc : SplitJsonDocuments(text)) {
        const ParseError pe = parser.Parse(doc, &event);
        if (pe != ParseError::kOk) {
          ++bad;
          std::fprintf(stderr, "faultline: %s: event %zu: %s\n", Printable(file).c_str(), index,
                       std::string(ParseErrorName(pe)).c_str());
          ++index;
          continue;
        }
        std::vector<std::string> ids;
        for (uint32_t r : matcher.Match(event)) {
          const sigma::Rule& rule = set->rules[r];
          // Printable first: JSON escapes only C0 controls, and this goes to a terminal.
          ids.push_back(JsonQuoted(Printable(rule.id.empty() ? rule.title : rule.id)));
        }
        std::printf(
            "{\"file\":%s,\"event\":%zu,\"host\":%s,\"event_id\":%u,\"record_id\":%llu,"
            "\"rules\":[%s]}\n",
            JsonQuoted(Printable(file)).c_str(), index, JsonQuoted(Printable(event.host)).c_str(),
            event.event_id, static_cast<unsigned long long>(event.record_id),
            absl::StrJoin(ids, ",").c_str());
        ++index;
      }
    }
    if (bad > 0) return absl::InternalError(absl::StrCat(bad, " document(s) did not parse"));
    return absl::OkStatus();
  });
}

int SigmaCommand(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "check") return SigmaCheck({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "match") return SigmaMatch({args.begin() + 1, args.end()});
  const bool help = WantsHelp(args);
  std::fputs(
      "Usage: faultline sigma check PATH...      which rules load, which are skipped and why\n"
      "       faultline sigma match --rules PATH FILE...   which rules each event matches\n"
      "(faultline sigma check --help, faultline sigma match --help for each)\n",
      help ? stdout : stderr);
  return help ? 0 : 2;
}

int Version(const std::vector<std::string>&) {
  std::vector<std::string> libraries;
  for (const auto& [name, value] : BuildInfo()) {
    if (name != "version") libraries.push_back(absl::StrCat(name, " ", value));
  }
  std::printf("faultline %s (%s)\n", kVersion, absl::StrJoin(libraries, ", ").c_str());
  return 0;
}

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr Command kCommands[] = {
    {"run", "consume Windows events from Kafka and deliver alerts (the service)", Run},
    {"rekey", "republish a topic not keyed by host as parsed events keyed by host", Rekey},
    {"replay", "the detectors over JSON-lines files or stdin, alerts on stdout (backtests)",
     Replay},
    {"demo", "the whole service on a bundled incident and an in-process Kafka", Demo},
    {"check-config", "validate a configuration and build every plugin, connecting nowhere",
     CheckConfig},
    {"sigma", "Sigma rules: check which load and why not; match them on event files", SigmaCommand},
    {"config-reference", "every setting, its type, default and meaning (or the JSON Schema)",
     ConfigReferenceCommand},
    {"--version", "the version, and the libraries it runs with", Version},
};

std::string Help() {
  std::string out =
      "faultline: detects Windows server failures in event streams from Kafka\n\n"
      "Usage: faultline COMMAND [options]     (faultline COMMAND --help for each)\n\nCommands:\n";
  for (const Command& c : kCommands) {
    absl::StrAppendFormat(&out, "  %-18s %s\n", c.name, c.summary);
  }
  // The registries' own: a detector or sink added is listed without an edit here.
  absl::StrAppend(&out,
                  "\nDetectors (detect.NAME; faultline config-reference for every setting):\n");
  for (const auto& entry : BuiltinDetectors().entries()) {
    std::string_view about = entry.schema->description();
    about = about.substr(0, std::min(about.find(": "), about.find(". ")));
    if (about.size() > 60) about = about.substr(0, about.find(" ("));  // one line each
    if (!about.empty() && about.back() == '.') about.remove_suffix(1);
    absl::StrAppendFormat(&out, "  %-24s %s\n", entry.name, ToAbsl(about));
  }
  std::vector<std::string> formats;
  for (const auto& [envelope, name] : EnvelopeNames()) formats.emplace_back(name);
  absl::StrAppend(&out, "\nSinks: ", absl::StrJoin(BuiltinSinks().names(), ", "),
                  "\nInput formats (ingest.format; auto detects them per message): ",
                  absl::StrJoin(formats, ", "), "\n");
  return out;
}

}  // namespace

int RunCommandLine(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(Help().c_str(), stderr);
    return 2;
  }
  const std::string& name = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (name == "--help" || name == "-h" || name == "help") {
    std::fputs(Help().c_str(), stdout);
    return 0;
  }
  if (name == "version") return Version(rest);
  for (const Command& c : kCommands) {
    if (name == c.name) return c.run(rest);
  }
  std::fprintf(stderr, "faultline: unknown command \"%s\"\n\n%s", name.c_str(), Help().c_str());
  return 2;
}

}  // namespace faultline

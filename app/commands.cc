#include "app/commands.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "app/builtin.h"
#include "app/kafka_publish.h"
#include "app/metrics.h"
#include "app/metrics_endpoint.h"
#include "core/clock.h"
#include "core/log.h"
#include "detect/registry.h"
#include "ingest/file/file_source.h"
#include "ingest/kafka/dead_letter_producer.h"
#include "ingest/kafka/kafka_source.h"
#include "ingest/parse/envelope_parser.h"
#include "librdkafka/rdkafka_mock.h"
#include "sinks/file/file_sink.h"

namespace faultline {

extern const std::string_view kDemoIncidentJsonl;

namespace {

// replay's and demo's sink: stdout in the format --format asked for.
absl::StatusOr<std::vector<SinkSpec>> StdoutSinks(const std::string& format) {
  if (format != "json" && format != "text") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format must be json or text, got \"", format, "\""));
  }
  auto settings = std::make_shared<FileSink::StdoutConfig>();
  settings->format = format == "text" ? FileSink::Format::kText : FileSink::Format::kJson;
  return std::vector<SinkSpec>{{.entry = {.type = "stdout"}, .settings = std::move(settings)}};
}

constexpr char kReplayHelp[] =
    R"(Usage: faultline replay FILE... [--config FILE] [--format json|text]

Reads forwarder messages (one Windows event per line: any supported JSON envelope, or event XML)
from the files, or from stdin for "-", runs the detectors in event time and prints the alerts on
stdout, one JSON object per line (--format text for a readable form). A replay of last month
behaves exactly like live traffic: use it to backtest thresholds. On a terminal, progress goes
to stderr every 5 seconds.

As its last line on stderr it prints a summary:
  {"events":N,"parsed":N,"rejected":N,"rejected_by_reason":{...},"duplicates":N,"too_late":N,
   "alerts":N,"alerts_by_rule":{...},"state_keys":N,"state_evictions":N,"sink_failures":N}
Malformed lines are counted by reason, never fatal. Exit status: 0 on success, 2 for bad
arguments, an unreadable file or a bad config.

Options:
  --config FILE    detection settings (the kafka and sinks sections are ignored)
  --format FMT     json (default) or text
  --quiet          no informational messages on stderr (the summary is still printed)
)";

constexpr char kRunHelp[] = R"(Usage: faultline run --config FILE [options]

Consumes Windows events from Kafka as a member of a consumer group, detects incidents and
delivers alerts to the configured sinks (stdout, file, webhook, pagerduty, slack, alertmanager,
kafka, teams, opsgenie), each from its own queue and thread, retrying what failed with backoff. Runs until SIGINT
or SIGTERM: then it stops fetching, gives the sinks delivery.shutdown_timeout to deliver what is
queued, commits and exits 0. Exit status: 1 for a runtime failure (a fatal Kafka error, a
metrics address that cannot be bound), 2 for bad arguments or a bad configuration.

Nothing is lost: an event's offset is committed only once the alerts it raised are delivered by
every sink (or journaled in delivery.spool_dir, which is then delivered after a restart). While
a sink's queue is full, consumption pauses (delivery.on_full: backpressure).

Options (override the config file):
  --config FILE          YAML configuration (see deploy/faultline.example.yaml)
  --brokers LIST         kafka.brokers, e.g. 127.0.0.1:9092
  --topic NAME           kafka.topics (repeatable)
  --group ID             kafka.group_id
  --metrics-listen ADDR  metrics.listen: serve /metrics, /healthz and /readyz on host:port
  --exit-at-end          stop once every assigned partition is consumed to its end (backfills)
  --progress-every D     progress line on stderr every D (default 30s; 0 disables)
  --quiet                only warnings and errors on stderr
)";

constexpr char kCheckConfigHelp[] = R"(Usage: faultline check-config FILE

Validates a configuration file the way `run` would, and builds every detector and sink from it
without connecting anywhere. Every error is reported at once, with its field path.
Exit status: 0 valid, 2 invalid.
)";

constexpr char kDemoHelp[] = R"(Usage: faultline demo [--json]

Runs faultline end to end with nothing to install: starts librdkafka's in-process mock Kafka
cluster, publishes a bundled real-shaped incident (Exchange's MSExchangeOWAAppPool failing: a
worker stack overflow seen by WAS 5009 and Application Error 1000, four WAS 5011 within two
minutes, then WAS 5002 as IIS rapid-fail protection disables the pool) as Winlogbeat 8 JSON,
consumes it through the same Kafka source as `faultline run`, and prints the alerts.

Options:
  --json    print the alerts as JSON lines (the stable alert shape) instead of text
)";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

// The exit codes, in one place: 0 ok; 1 a runtime failure (a broker, a port, an input that
// cannot be read); 2 usage or configuration. A bad flag prints the usage; a bad configuration
// or a runtime failure prints what is wrong and no usage (it is not a matter of flags).
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

int Usage(const char* help, const std::string& error) {
  std::fprintf(stderr, "faultline: %s\n\n%s", error.c_str(), help);
  return kExitUsage;
}

int ConfigError(const absl::Status& status) {
  std::fprintf(stderr, "faultline: %s\n", std::string(status.message()).c_str());
  return kExitUsage;
}

int RuntimeError(const absl::Status& status) {
  LogError(status.message());
  return kExitRuntime;
}

// Reads `--name VALUE` at args[*i]; false (after printing usage) if VALUE is missing.
bool TakeValue(const std::vector<std::string>& args, size_t* i, std::string* out) {
  if (*i + 1 >= args.size()) return false;
  *out = args[++*i];
  return true;
}

// Prints a progress line every `every` until `done`, from its own thread.
class ProgressReporter {
 public:
  ProgressReporter(const Pipeline& pipeline, absl::Duration every, Clock& clock)
      : pipeline_(pipeline), stats_(pipeline.stats()), every_(every), clock_(clock) {
    if (every_ > absl::ZeroDuration()) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressReporter() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    absl::Time last = clock_.TimeNow();
    uint64_t last_messages = 0;
    while (!done_.load()) {
      clock_.SleepFor(absl::Milliseconds(200));
      const absl::Time now = clock_.TimeNow();
      if (now - last < every_) continue;
      const uint64_t messages = stats_.messages.load(std::memory_order_relaxed);
      uint64_t delivered = 0, queued = 0;
      for (const Dispatcher::SinkInfo& sink : pipeline_.dispatcher().sinks()) {
        delivered += sink.stats.delivered.load();
        queued += sink.stats.queued.load();
      }
      LogInfo(absl::StrFormat(
          "progress: %d events (%.0f/s), %d parsed, %d rejected, %d alerts; sinks: %d delivered, "
          "%d queued, %d failed",
          messages,
          static_cast<double>(messages - last_messages) / absl::ToDoubleSeconds(now - last),
          stats_.parsed.load(), stats_.rejected(), stats_.alerts.load(), delivered, queued,
          pipeline_.sink_failures()));
      last = now;
      last_messages = messages;
    }
  }

  const Pipeline& pipeline_;
  const RunStats& stats_;
  absl::Duration every_;
  Clock& clock_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Pipeline>> BuildPipeline(const Config& config,
                                                        const std::vector<SinkSpec>& sinks,
                                                        const PipelineOptions& options) {
  absl::StatusOr<std::vector<std::unique_ptr<Detector>>> built =
      BuiltinDetectors().CreateAll(config.detect);
  std::vector<std::string> errors;  // every problem of every plugin, reported together
  if (!built.ok()) errors.emplace_back(built.status().message());

  const SinkRegistry& sink_registry = BuiltinSinks();
  const SinkContext context{.stdout_stream = options.stdout_stream,
                            .clock = options.clock,
                            .kafka_brokers = config.kafka.brokers,
                            .kafka_properties = config.kafka.properties,
                            .dry_run = options.dry_run};
  std::vector<Dispatcher::Route> routes;
  for (const SinkSpec& spec : sinks) {
    absl::StatusOr<std::unique_ptr<Sink>> sink = sink_registry.Create(spec, context);
    if (!sink.ok()) {
      errors.emplace_back(sink.status().message());
      continue;
    }
    const SinkEntry& e = spec.entry;
    const QueueOptions queue{
        .name = e.name,
        .capacity = static_cast<size_t>(
            e.queue_capacity.value_or(static_cast<int64_t>(config.delivery.queue_capacity))),
        .drop_when_full = e.drop_when_full.value_or(config.delivery.drop_when_full),
        .retry_backoff = e.retry_backoff.value_or(config.delivery.retry_backoff),
        .retry_backoff_max = e.retry_backoff_max.value_or(config.delivery.retry_backoff_max)};
    routes.push_back({.queue = queue, .type = e.type, .sink = std::move(*sink)});
  }
  std::unique_ptr<DeadLetters> dead_letters;
  if (options.for_service && !options.dry_run && !config.ingest.dead_letter_topic.empty()) {
    auto producer = DeadLetterProducer::Create(
        config.kafka.brokers, config.ingest.dead_letter_topic, config.kafka.properties);
    if (!producer.ok()) {
      errors.push_back(absl::StrCat("ingest.dead_letter_topic: ", producer.status().message()));
    } else {
      dead_letters = std::move(*producer);
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  const std::string spool_dir =
      options.for_service && !options.dry_run ? config.delivery.spool_dir : "";
  absl::StatusOr<std::unique_ptr<Dispatcher>> dispatcher =
      Dispatcher::Create(std::move(routes), spool_dir, *options.clock);
  if (!dispatcher.ok()) return absl::InvalidArgumentError(dispatcher.status().message());
  auto pipeline = std::make_unique<Pipeline>(
      std::make_unique<EnvelopeParser>(config.ingest.envelope),
      std::make_unique<Engine>(
          std::move(*built),
          EngineOptions{.dedupe_window = config.detect.dedupe_window,
                        .allowed_lateness = config.detect.context.allowed_lateness,
                        .max_clock_skew = config.detect.max_clock_skew,
                        .max_event_age = config.detect.max_event_age,
                        .max_hosts = static_cast<size_t>(std::max(config.detect.max_hosts, 1))}),
      std::move(*dispatcher), config.ingest.max_message_bytes, std::move(dead_letters),
      *options.clock, config.delivery.shutdown_timeout);
  if (!options.dry_run) {
    if (absl::Status s = pipeline->Start(); !s.ok()) return s;
  }
  return pipeline;
}

int ReplayCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kReplayHelp, stdout);
    return 0;
  }
  std::vector<std::string> files;
  std::string config_path, format = "json";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--config") {
      if (!TakeValue(args, &i, &config_path)) return Usage(kReplayHelp, "--config needs a file");
    } else if (a == "--format") {
      if (!TakeValue(args, &i, &format)) return Usage(kReplayHelp, "--format needs json or text");
    } else if (a == "--quiet") {
      SetLogLevel(LogLevel::kWarning);
    } else if (a.size() > 1 && a[0] == '-') {
      return Usage(kReplayHelp, absl::StrCat("unknown option ", a));
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return Usage(kReplayHelp, "no input files (use - for stdin)");
  Config config;
  if (!config_path.empty()) {
    absl::StatusOr<Config> loaded = LoadConfigFile(config_path);
    if (!loaded.ok()) return ConfigError(loaded.status());
    config = *std::move(loaded);
  }
  absl::StatusOr<std::vector<SinkSpec>> sinks = StdoutSinks(format);
  if (!sinks.ok()) return Usage(kReplayHelp, std::string(sinks.status().message()));
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline = BuildPipeline(config, *sinks);
  if (!pipeline.ok()) return ConfigError(pipeline.status());
  absl::StatusOr<std::unique_ptr<FileSource>> source = FileSource::Create(files);
  if (!source.ok()) return ConfigError(source.status());  // the files named do not exist

  InstallSignalHandlers();
  absl::Status status;
  {
    // A person watching a long backtest sees it move; a pipe gets only the summary.
    ProgressReporter progress(**pipeline,
                              isatty(STDERR_FILENO) ? absl::Seconds(5) : absl::ZeroDuration(),
                              RealClock::Get());
    status = (*source)->Run(**pipeline, g_stop);
  }
  std::fprintf(stderr, "%s\n", (*pipeline)->SummaryJson().c_str());
  if (!status.ok()) {
    LogError(status.message());
    return 1;
  }
  return 0;
}

int RunCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kRunHelp, stdout);
    return 0;
  }
  std::string config_path, brokers, group, progress = "30s", metrics_listen;
  std::vector<std::string> topics;
  bool exit_at_end = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    if (a == "--config") {
      if (!TakeValue(args, &i, &config_path)) return Usage(kRunHelp, "--config needs a file");
    } else if (a == "--brokers") {
      if (!TakeValue(args, &i, &brokers)) return Usage(kRunHelp, "--brokers needs a list");
    } else if (a == "--topic") {
      if (!TakeValue(args, &i, &v)) return Usage(kRunHelp, "--topic needs a name");
      topics.push_back(v);
    } else if (a == "--group") {
      if (!TakeValue(args, &i, &group)) return Usage(kRunHelp, "--group needs an id");
    } else if (a == "--exit-at-end") {
      exit_at_end = true;
    } else if (a == "--progress-every") {
      if (!TakeValue(args, &i, &progress))
        return Usage(kRunHelp, "--progress-every needs a duration");
    } else if (a == "--metrics-listen") {
      if (!TakeValue(args, &i, &metrics_listen))
        return Usage(kRunHelp, "--metrics-listen needs host:port");
    } else if (a == "--quiet") {
      SetLogLevel(LogLevel::kWarning);
    } else {
      return Usage(kRunHelp, absl::StrCat("unknown argument ", a));
    }
  }
  if (config_path.empty()) return Usage(kRunHelp, "--config is required");
  absl::StatusOr<Config> config = LoadConfigFile(config_path);
  if (!config.ok()) return ConfigError(config.status());
  if (!brokers.empty()) config->kafka.brokers = brokers;
  if (!topics.empty()) config->kafka.topics = topics;
  if (!group.empty()) config->kafka.group_id = group;
  if (!metrics_listen.empty()) {
    if (absl::Status s = ValidateListenAddress(metrics_listen); !s.ok()) {
      return Usage(kRunHelp, absl::StrCat("--metrics-listen: ", s.message()));
    }
    config->metrics.listen = metrics_listen;
  }
  config->kafka.stop_at_end = exit_at_end;
  absl::Duration progress_every;
  if (!absl::ParseDuration(progress, &progress_every)) {
    return Usage(kRunHelp, absl::StrCat("--progress-every: not a duration: ", progress));
  }

  Clock& clock = RealClock::Get();
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline =
      BuildPipeline(*config, config->sinks, {.for_service = true});
  if (!pipeline.ok()) return ConfigError(pipeline.status());
  absl::StatusOr<std::unique_ptr<KafkaSource>> source = KafkaSource::Create(config->kafka, clock);
  if (!source.ok()) {
    return source.status().code() == absl::StatusCode::kInvalidArgument
               ? ConfigError(source.status())
               : RuntimeError(source.status());
  }

  std::unique_ptr<MetricsEndpoint> endpoint;
  if (!config->metrics.listen.empty()) {
    const Pipeline* p = pipeline->get();
    const KafkaSource* k = source->get();
    const absl::Time started = clock.TimeNow();
    // Alive while the consumer loop turns (it ticks every second, back-pressure or not).
    auto live = [p, started, &clock](std::string* why) {
      const int64_t tick = p->stats().last_tick_unix_ms.load();
      const absl::Time last = tick == 0 ? started : absl::FromUnixMillis(tick);
      if (clock.TimeNow() - last < absl::Minutes(1)) return true;
      *why =
          absl::StrCat("the consumer loop has not turned for ",
                       absl::FormatDuration(absl::Trunc(clock.TimeNow() - last, absl::Seconds(1))));
      return false;
    };
    auto ready = [k](std::string* why) {
      if (k->stats().joined.load()) return true;
      *why = "not (yet) a member of the consumer group";
      return false;
    };
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started_endpoint = MetricsEndpoint::Start(
        config->metrics.listen, std::make_shared<FaultlineMetrics>(p, k), live, ready);
    if (!started_endpoint.ok()) return RuntimeError(started_endpoint.status());  // a port taken
    endpoint = std::move(*started_endpoint);
    LogInfo(absl::StrCat("metrics on http://",
                         config->metrics.listen.substr(0, config->metrics.listen.rfind(':')), ":",
                         endpoint->port(), "/metrics (and /healthz, /readyz)"));
  }

  InstallSignalHandlers();
  LogInfo(absl::StrCat("consuming ", absl::StrJoin(config->kafka.topics, ","), " from ",
                       config->kafka.brokers, " as group ", config->kafka.group_id));
  absl::Status status;
  {
    ProgressReporter progress_reporter(**pipeline, progress_every, clock);
    status = (*source)->Run(**pipeline, g_stop);
  }
  const KafkaSource::Stats& ks = (*source)->stats();
  LogInfo(absl::StrFormat(
      "stopped: %d commits (%d failed), %d consumer errors, %d rebalances, %d back-pressure "
      "pauses",
      ks.commits.load(), ks.commit_failures.load(), ks.consumer_errors.load(), ks.rebalances.load(),
      ks.pauses.load()));
  std::fprintf(stderr, "%s\n", (*pipeline)->SummaryJson().c_str());
  if (!status.ok()) {
    LogError(status.message());
    return 1;
  }
  return 0;
}

int CheckConfigCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kCheckConfigHelp, stdout);
    return 0;
  }
  if (args.size() != 1) return Usage(kCheckConfigHelp, "expected exactly one FILE");
  absl::StatusOr<Config> config = LoadConfigFile(args[0]);
  if (!config.ok()) return ConfigError(config.status());
  std::vector<std::string> errors;
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline =
      BuildPipeline(*config, config->sinks, {.for_service = true, .dry_run = true});
  if (!pipeline.ok()) errors.emplace_back(pipeline.status().message());
  const bool has_kafka = !config->kafka.brokers.empty() || !config->kafka.topics.empty();
  if (has_kafka) {
    if (absl::Status s = KafkaSource::Validate(config->kafka); !s.ok()) {
      errors.emplace_back(s.message());
    }
  }
  if (!errors.empty()) {
    std::fprintf(stderr, "%s: invalid\n%s\n", args[0].c_str(), absl::StrJoin(errors, "\n").c_str());
    return 2;
  }
  std::vector<std::string> detectors, sinks;
  for (const auto& d : (*pipeline)->detectors()) detectors.emplace_back(d->name());
  for (const Dispatcher::SinkInfo& s : (*pipeline)->dispatcher().sinks()) {
    sinks.push_back(s.name == s.type ? s.name : absl::StrCat(s.name, " (", s.type, ")"));
  }
  std::printf("%s: ok; detectors: %s; sinks: %s%s\n", args[0].c_str(),
              absl::StrJoin(detectors, ", ").c_str(), absl::StrJoin(sinks, ", ").c_str(),
              has_kafka ? ""
                        : "; no kafka section (fine for replay; run needs kafka.brokers and "
                          "kafka.topics)");
  return 0;
}

int DemoCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kDemoHelp, stdout);
    return 0;
  }
  std::string format = "text";
  for (const std::string& a : args) {
    if (a == "--json") {
      format = "json";
    } else {
      return Usage(kDemoHelp, absl::StrCat("unknown argument ", a));
    }
  }
  const std::string topic = "winlogbeat";
  // The producer hosts librdkafka's in-process mock cluster; it must outlive the consumer.
  absl::StatusOr<KafkaClient> producer =
      NewPublisher("", {{"test.mock.num.brokers", "1"}, {"log_level", "4"}});
  if (!producer.ok()) {
    LogError(producer.status().message());
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(producer->get());
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  rd_kafka_mock_topic_create(cluster, topic.c_str(), 1, 1);
  std::vector<KafkaRecord> records = SplitLines(kDemoIncidentJsonl, "EXCH01");
  StampWithEventTimes(records);  // as Winlogbeat sends them: the incident is live, not a backlog
  int exit_code = 0;
  if (absl::Status s = PublishAll(producer->get(), topic, records); !s.ok()) {
    LogError(s.message());
    exit_code = 1;
  } else {
    std::fprintf(stderr,
                 "demo: published %zu Winlogbeat 8 events of the MSExchangeOWAAppPool incident to "
                 "topic '%s' on the in-process mock cluster %s\n"
                 "demo: consuming them through the Kafka source (joining the group takes a few "
                 "seconds)...\n\n",
                 records.size(), topic.c_str(), bootstrap.c_str());
    Config config;
    config.kafka.brokers = bootstrap;
    config.kafka.topics = {topic};
    config.kafka.group_id = "faultline-demo";
    config.kafka.stop_at_end = true;
    SetLogLevel(LogLevel::kWarning);  // the demo's own lines say what happens
    absl::StatusOr<std::vector<SinkSpec>> sinks = StdoutSinks(format);
    absl::StatusOr<std::unique_ptr<Pipeline>> pipeline =
        sinks.ok() ? BuildPipeline(config, *sinks)
                   : absl::StatusOr<std::unique_ptr<Pipeline>>(sinks.status());
    absl::StatusOr<std::unique_ptr<KafkaSource>> source =
        pipeline.ok() ? KafkaSource::Create(config.kafka, RealClock::Get())
                      : absl::StatusOr<std::unique_ptr<KafkaSource>>(pipeline.status());
    if (!source.ok()) {
      LogError(source.status().message());
      exit_code = 1;
    } else {
      // A watchdog: the demo must end by itself even if the mock cluster misbehaves.
      std::atomic<bool> done{false};
      std::thread watchdog([&] {
        for (int i = 0; i < 600 && !done.load(); ++i)
          RealClock::Get().SleepFor(absl::Milliseconds(100));
        if (!done.load()) {
          LogError("demo: no end of topic after 60s; stopping");
          g_stop.store(true);
        }
      });
      InstallSignalHandlers();
      const absl::Status status = (*source)->Run(**pipeline, g_stop);
      done.store(true);
      watchdog.join();
      std::fprintf(stderr, "\ndemo: %s\n", (*pipeline)->SummaryJson().c_str());
      if (!status.ok() || g_stop.load()) exit_code = 1;
    }
  }
  return exit_code;
}

}  // namespace faultline

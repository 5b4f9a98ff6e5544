#include "app/service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "app/builtin.h"
#include "app/metrics.h"
#include "app/metrics_endpoint.h"
#include "app/progress.h"
#include "core/log.h"
#include "ingest/file/file_source.h"
#include "ingest/kafka/dead_letter_producer.h"
#include "ingest/kafka/kafka_source.h"
#include "ingest/parse/envelope_parser.h"

namespace faultline {

Service::Service(Config config, ServiceOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

Service::~Service() = default;

absl::StatusOr<std::unique_ptr<Service>> Service::Create(const Config& config,
                                                         ServiceOptions options) {
  std::unique_ptr<Service> service(new Service(config, std::move(options)));
  std::vector<std::string> errors;  // every problem of every plugin, reported together
  if (absl::Status s = service->BuildPipeline(&errors); !s.ok()) return s;
  if (service->options_.input == ServiceOptions::Input::kNone) {
    // check-config: Kafka as `run` would use it, when the file says where it is.
    const KafkaSourceConfig& kafka = config.kafka;
    if (!kafka.brokers.empty() || !kafka.topics.empty()) {
      if (absl::Status s = KafkaSource::Validate(kafka); !s.ok()) errors.emplace_back(s.message());
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  if (absl::Status s = service->BuildSource(); !s.ok()) return s;

  Service* self = service.get();
  Pipeline& pipeline = *service->pipeline_;
  service->stages_ = {
      {"pipeline", [&pipeline] { return pipeline.Start(); }, [&pipeline] { pipeline.Drain(); }},
      {"metrics", [self] { return self->StartMetrics(); }, [self] { self->metrics_.reset(); }},
      {"progress",
       [self] {
         self->progress_ = std::make_unique<ProgressReporter>(
             *self->pipeline_, self->options_.progress_every, *self->options_.clock);
         return absl::OkStatus();
       },
       [self] { self->progress_.reset(); }},
  };
  return service;
}

absl::Status Service::BuildPipeline(std::vector<std::string>* errors) {
  const Config& config = config_;
  const bool dry_run = options_.input == ServiceOptions::Input::kNone;
  const bool durable = options_.durable && !dry_run;
  absl::StatusOr<std::vector<std::unique_ptr<Detector>>> detectors =
      BuiltinDetectors().CreateAll(config.detect);
  if (!detectors.ok()) errors->emplace_back(detectors.status().message());

  const SinkContext context{.stdout_stream = options_.stdout_stream,
                            .clock = options_.clock,
                            .kafka_brokers = config.kafka.brokers,
                            .kafka_properties = config.kafka.properties,
                            .dry_run = dry_run};
  std::vector<Dispatcher::Route> routes;
  for (const SinkSpec& spec : config.sinks) {
    absl::StatusOr<std::unique_ptr<Sink>> sink = BuiltinSinks().Create(spec, context);
    if (!sink.ok()) {
      errors->emplace_back(sink.status().message());
      continue;
    }
    const SinkEntry& e = spec.entry;
    const DeliveryConfig& d = config.delivery;
    routes.push_back(
        {.queue = {.name = e.name,
                   .capacity = static_cast<size_t>(
                       e.queue_capacity.value_or(static_cast<int64_t>(d.queue_capacity))),
                   .drop_when_full = e.drop_when_full.value_or(d.drop_when_full),
                   .retry_backoff = e.retry_backoff.value_or(d.retry_backoff),
                   .retry_backoff_max = e.retry_backoff_max.value_or(d.retry_backoff_max)},
         .type = e.type,
         .sink = std::move(*sink)});
  }
  std::unique_ptr<DeadLetters> dead_letters;
  if (durable && !config.ingest.dead_letter_topic.empty()) {
    auto producer = DeadLetterProducer::Create(
        config.kafka.brokers, config.ingest.dead_letter_topic, config.kafka.properties);
    if (!producer.ok()) {
      errors->push_back(absl::StrCat("ingest.dead_letter_topic: ", producer.status().message()));
    } else {
      dead_letters = std::move(*producer);
    }
  }
  if (!errors->empty()) return absl::OkStatus();  // reported with the rest by Create
  absl::StatusOr<std::unique_ptr<Dispatcher>> dispatcher = Dispatcher::Create(
      std::move(routes), durable ? config.delivery.spool_dir : "", *options_.clock);
  if (!dispatcher.ok()) return dispatcher.status();
  pipeline_ = std::make_unique<Pipeline>(
      std::make_unique<EnvelopeParser>(config.ingest.envelope),
      std::make_unique<Engine>(
          std::move(*detectors),
          EngineOptions{.dedupe_window = config.detect.dedupe_window,
                        .allowed_lateness = config.detect.context.allowed_lateness,
                        .max_clock_skew = config.detect.max_clock_skew,
                        .max_event_age = config.detect.max_event_age,
                        .max_hosts = static_cast<size_t>(std::max(config.detect.max_hosts, 1))}),
      std::move(*dispatcher), config.ingest.max_message_bytes, std::move(dead_letters),
      *options_.clock, config.delivery.shutdown_timeout);
  return absl::OkStatus();
}

absl::Status Service::BuildSource() {
  switch (options_.input) {
    case ServiceOptions::Input::kNone:
      return absl::OkStatus();
    case ServiceOptions::Input::kFiles: {
      absl::StatusOr<std::unique_ptr<FileSource>> files =
          FileSource::Create(options_.files, *options_.clock);
      if (!files.ok()) return files.status();
      source_ = std::move(*files);
      return absl::OkStatus();
    }
    case ServiceOptions::Input::kKafka: {
      absl::StatusOr<std::unique_ptr<KafkaSource>> kafka =
          KafkaSource::Create(config_.kafka, *options_.clock);
      if (!kafka.ok()) return kafka.status();
      kafka_ = kafka->get();
      source_ = std::move(*kafka);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown input");
}

absl::Status Service::StartMetrics() {
  // The service's endpoint: a replay beside a running service must not take its port.
  const std::string& listen = config_.metrics.listen;
  if (listen.empty() || kafka_ == nullptr) return absl::OkStatus();
  const Pipeline* p = pipeline_.get();
  const KafkaSource* k = kafka_;
  Clock* clock = options_.clock;
  const absl::Time started = clock->TimeNow();
  // Alive while the consumer loop turns (it ticks every second, back-pressure or not).
  auto live = [p, started, clock](std::string* why) {
    const int64_t tick = p->stats().last_tick_unix_ms.load();
    const absl::Time last = tick == 0 ? started : absl::FromUnixMillis(tick);
    const absl::Duration quiet = clock->TimeNow() - last;
    if (quiet < absl::Minutes(1)) return true;
    *why = absl::StrCat("the consumer loop has not turned for ",
                        absl::FormatDuration(absl::Trunc(quiet, absl::Seconds(1))));
    return false;
  };
  auto ready = [k](std::string* why) {
    if (k == nullptr || k->stats().joined.load()) return true;
    *why = "not (yet) a member of the consumer group";
    return false;
  };
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start(listen, std::make_shared<FaultlineMetrics>(p, k), live, ready);
  if (!endpoint.ok()) return endpoint.status();
  metrics_ = std::move(*endpoint);
  LogInfo(absl::StrCat("metrics on http://", listen.substr(0, listen.rfind(':')), ":",
                       metrics_->port(), "/metrics (and /healthz, /readyz)"));
  return absl::OkStatus();
}

absl::Status Service::Run(const std::atomic<bool>& stop) {
  if (ran_) return absl::FailedPreconditionError("a service runs once");
  ran_ = true;
  absl::Status status;
  size_t started = 0;
  for (; started < stages_.size(); ++started) {
    status = stages_[started].start();
    if (!status.ok()) break;
  }
  if (status.ok() && source_ != nullptr) {
    if (kafka_ != nullptr) {
      LogInfo(absl::StrCat("consuming ", absl::StrJoin(config_.kafka.topics, ","), " from ",
                           config_.kafka.brokers, " as group ", config_.kafka.group_id));
    }
    status = source_->Run(*pipeline_, stop);
    if (kafka_ != nullptr) {
      const KafkaSource::Stats& ks = kafka_->stats();
      LogInfo(absl::StrFormat(
          "stopped: %d commits (%d failed), %d consumer errors, %d rebalances, %d back-pressure "
          "pauses",
          ks.commits.load(), ks.commit_failures.load(), ks.consumer_errors.load(),
          ks.rebalances.load(), ks.pauses.load()));
    }
  }
  while (started > 0) stages_[--started].stop();
  return status;
}

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
      return 2;
    default:
      return 1;
  }
}

}  // namespace faultline

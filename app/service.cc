#include "app/service.h"

#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "app/builtin.h"
#include "app/metrics.h"
#include "app/metrics_endpoint.h"
#include "app/progress.h"
#include "core/log.h"
#include "detect/pool_forward.h"
#include "ingest/file/file_source.h"
#include "ingest/kafka/kafka_source.h"
#include "ingest/kafka/topic_producer.h"
#include "ingest/parse/envelope_parser.h"

namespace faultline {

Service::Service(Config config, ServiceOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

Service::~Service() = default;

absl::StatusOr<std::unique_ptr<Service>> Service::Create(const Config& config,
                                                         ServiceOptions options) {
  std::unique_ptr<Service> service(new Service(config, std::move(options)));
  // The file's problems, then those found building from it: reported together, in file order.
  settings::Problems problems = config.problems;
  if (absl::Status s = service->BuildPipelines(problems); !s.ok()) return s;
  // Kafka as `run` will use it (its flags included); check-config checks it when the file says
  // where Kafka is (the rest may come from flags).
  const ServiceOptions::Input input = service->options_.input;
  if (input == ServiceOptions::Input::kKafka ||
      (input == ServiceOptions::Input::kNone &&
       (!config.kafka.brokers.empty() || !config.kafka.topics.empty()))) {
    KafkaSource::Validate(config.kafka, problems);
  }
  // The endpoint's web configuration is part of the configuration: check-config reads it too.
  const std::string& web_file = config.metrics.web_config_file;
  if (!web_file.empty() && service->options_.input != ServiceOptions::Input::kFiles) {
    absl::StatusOr<WebConfig> web = LoadWebConfigFile(web_file);
    if (web.ok()) {
      service->metrics_web_ = std::move(*web);
    } else {
      problems.AddLater("metrics.web_config_file", std::string(web.status().message()));
    }
  }
  if (absl::Status s = problems.ToStatus(config.file); !s.ok()) return s;
  if (absl::Status s = service->BuildSources(); !s.ok()) return s;

  Service* self = service.get();
  service->stages_ = {
      {"delivery",
       [self] {
         for (Worker& w : self->workers_) {
           if (absl::Status s = w.pipeline->Start(); !s.ok()) return s;
         }
         return absl::OkStatus();
       },
       [self] {
         // Each worker's source drained its pipeline; a worker that never ran drains here.
         for (Worker& w : self->workers_) w.pipeline->Drain();
         self->dispatcher_->Stop(absl::ZeroDuration());
         // Run reports what was not delivered (and fails for it).
         uint64_t left = 0;
         for (const Dispatcher::SinkInfo& sink : self->dispatcher_->sinks()) {
           left += sink.stats.queued.load();
         }
         const uint64_t lost = self->workers_.front().pipeline->sink_failures();  // shared sinks
         std::vector<std::string> problems;
         if (left > 0) {
           problems.push_back(absl::StrCat(
               left, " alert(s) not delivered within ",
               absl::FormatDuration(self->config_.delivery.shutdown_timeout),
               self->dispatcher_->spool()
                   ? "; they stay in the spool for the next start"
                   : "; their events stay uncommitted and are read again at the next start"));
         }
         if (const size_t unjournaled = self->dispatcher_->unjournaled(); unjournaled > 0) {
           problems.push_back(absl::StrCat(
               unjournaled,
               " alert(s) not yet written to the spool; their events stay uncommitted and are "
               "read again at the next start"));
         }
         if (lost > 0) {
           problems.push_back(absl::StrCat(
               lost, " alert(s) refused for good or dropped by a sink (see the sinks' counters)"));
         }
         self->undelivered_ = absl::StrJoin(problems, "; ");
       }},
      {"metrics", [self] { return self->StartMetrics(); }, [self] { self->metrics_.reset(); }},
      {"progress",
       [self] {
         self->progress_ = std::make_unique<ProgressReporter>(
             self->pipelines(), self->options_.progress_every, *self->options_.clock);
         return absl::OkStatus();
       },
       [self] { self->progress_.reset(); }},
  };
  return service;
}

std::vector<const Pipeline*> Service::pipelines() const {
  std::vector<const Pipeline*> all;
  for (const Worker& w : workers_) all.push_back(w.pipeline.get());
  return all;
}

int CgroupCpuLimit(const std::string& root) {
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text;
  };
  // cgroup v2: "QUOTA PERIOD" or "max PERIOD"; v1: cpu.cfs_quota_us (-1: none), cfs_period_us.
  int64_t quota = -1, period = 0;
  if (const std::string v2 = read(root + "/cpu.max"); !v2.empty()) {
    std::vector<std::string> parts = absl::StrSplit(v2, ' ', absl::SkipEmpty());
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &quota) ||
        !absl::SimpleAtoi(parts[1], &period)) {
      return 0;  // "max": no quota
    }
  } else if (!absl::SimpleAtoi(read(root + "/cpu/cpu.cfs_quota_us"), &quota) ||
             !absl::SimpleAtoi(read(root + "/cpu/cpu.cfs_period_us"), &period)) {
    return 0;
  }
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<int>((quota + period - 1) / period);  // 1.5 CPUs: 2 workers
}

int Service::WorkerCount(bool pool_keyed_detectors, bool split_pools,
                         settings::Problems& problems) {
  const ServiceOptions::Input input = options_.input;
  const int asked = config_.kafka.workers;
  if (input == ServiceOptions::Input::kFiles) return 1;  // one stream, in its order
  if (options_.role == ServiceOptions::Role::kRekey) {
    // It merges its partitions in Kafka-timestamp order so that a host's events, spread over
    // them, come out in their order: split over workers, each would merge only its share.
    if (asked > 1) {
      problems.AddLater("kafka.workers",
                        absl::StrCat(asked,
                                     ": rekey runs one worker (it merges all of its partitions "
                                     "in time order); run more instances of it instead"));
    }
    return 1;
  }
  // A worker sees the hosts of its own partitions only: a detector keyed by pool counts a pool
  // across them only through the pool topic.
  const bool split_would_lose = pool_keyed_detectors && !split_pools;
  if (asked > 1 && split_would_lose) {
    problems.AddLater(
        "kafka.workers",
        absl::StrCat(asked,
                     " workers each see only the hosts of their own partitions: with "
                     "fleet_app_pool_failures on, more than one needs ingest.pool_topic (or the "
                     "detector off)"));
    return 1;
  }
  if (asked > 0) return asked;
  if (split_would_lose) {
    // One per core would split the fleet detector's pools: said at start.
    workers_why_ =
        "one worker: fleet_app_pool_failures counts a pool across all partitions; set "
        "ingest.pool_topic for one per core";
    return 1;
  }
  // The cores this process may run on (its CPU affinity, as a container's cpuset sets it), or
  // fewer when its cgroup's CPU quota allows fewer (a pod limited to 2 CPUs on a 64-core
  // node), at most the setting's bound.
  cpu_set_t cpus;
  int cores = sched_getaffinity(0, sizeof(cpus), &cpus) == 0
                  ? CPU_COUNT(&cpus)
                  : static_cast<int>(std::thread::hardware_concurrency());
  if (const int quota = CgroupCpuLimit("/sys/fs/cgroup"); quota > 0 && quota < cores) {
    cores = quota;
    workers_why_ = absl::StrCat("one per CPU of the cgroup's quota, ", quota);
  }
  return std::clamp(cores, 1, KafkaSourceConfig::kMaxWorkers);
}

absl::Status Service::BuildPipelines(settings::Problems& problems) {
  const Config& config = config_;
  const bool dry_run = options_.input == ServiceOptions::Input::kNone;
  const bool durable = options_.durable && !dry_run;
  const bool rekey = options_.role == ServiceOptions::Role::kRekey;
  // Detectors keyed by pool run on the pool topic's records, in an engine of their own.
  const bool split_pools = !rekey && options_.input == ServiceOptions::Input::kKafka &&
                           !config.ingest.pool_topic.empty();
  // The rekey role parses and forwards: no detector, no sink.
  auto create_detectors = [&](settings::Problems& found) {
    if (rekey) return std::vector<std::unique_ptr<Detector>>{};
    return BuiltinDetectors().CreateAll(config.detect, found);
  };
  std::vector<std::unique_ptr<Detector>> detectors = create_detectors(problems);
  bool pool_keyed = false;
  for (const auto& d : detectors) pool_keyed = pool_keyed || d->state_key() == StateKey::kAppPool;
  const int workers = WorkerCount(pool_keyed, !config.ingest.pool_topic.empty(), problems);
  CheckTopics(problems);
  // The sinks are checked first as check-config checks them (opening and creating nothing), so
  // a refused configuration leaves no file behind; then built.
  std::vector<Dispatcher::Route> routes;
  const std::vector<SinkSpec> no_sinks;
  for (const bool check : {true, false}) {
    if (check && dry_run) continue;  // check-config's build is its check
    const SinkContext context{.stdout_stream = options_.stdout_stream,
                              .clock = options_.clock,
                              .kafka_brokers = config.kafka.brokers,
                              .kafka_properties = config.kafka.properties,
                              .dry_run = dry_run || check,
                              // A service waits out what the host refuses now; check-config and
                              // a replay (a job that ends) say so at once.
                              .check_paths = options_.input != ServiceOptions::Input::kKafka};
    for (const SinkSpec& spec : rekey ? no_sinks : config.sinks) {
      if (!spec.path.empty() && problems.Has(spec.path)) continue;  // said by the reader
      absl::StatusOr<std::unique_ptr<Sink>> sink = BuiltinSinks().Create(spec, context);
      if (!sink.ok()) {
        problems.AddLater(spec.path.empty() ? "sinks" : spec.path,
                          std::string(sink.status().message()), spec.settings.schema());
      } else if (!check) {
        routes.push_back({.queue = spec.entry.QueueOver(config.delivery.queue),
                          .type = spec.entry.type,
                          .sink = std::move(*sink)});
      }
    }
    if (!problems.empty()) return absl::OkStatus();  // reported with the rest by Create
  }
  absl::StatusOr<std::unique_ptr<Dispatcher>> dispatcher = Dispatcher::Create(
      std::move(routes), durable ? config.delivery.spool_dir : "", *options_.clock);
  if (dispatcher.status().code() == absl::StatusCode::kInvalidArgument) {
    problems.AddLater("sinks", std::string(dispatcher.status().message()));  // their names
    return absl::OkStatus();
  }
  if (!dispatcher.ok()) return dispatcher.status();
  dispatcher_ = std::move(*dispatcher);
  // check-config builds one: every worker's is the same.
  const int count = options_.input == ServiceOptions::Input::kKafka ? workers : 1;
  std::vector<std::vector<std::unique_ptr<Detector>>> sets;
  sets.push_back(std::move(detectors));
  while (static_cast<int>(sets.size()) < count) sets.push_back(create_detectors(problems));
  for (auto& set : sets) {
    std::unique_ptr<Pipeline> pipeline = BuildPipeline(std::move(set), split_pools, problems);
    if (!problems.empty()) return absl::OkStatus();
    workers_.push_back({.pipeline = std::move(pipeline)});
  }
  return absl::OkStatus();
}

void Service::CheckTopics(settings::Problems& problems) const {
  const Config& config = config_;
  const bool rekey = options_.role == ServiceOptions::Role::kRekey;
  const std::string& pool_topic = config.ingest.pool_topic;
  if (!pool_topic.empty() &&
      std::count(config.kafka.topics.begin(), config.kafka.topics.end(), pool_topic) > 0) {
    problems.AddLater("ingest.pool_topic",
                      "must not be one of kafka.topics (it is faultline's own, read besides "
                      "them)");
  }
  if (!pool_topic.empty() && !rekey && options_.input != ServiceOptions::Input::kFiles &&
      config.kafka.topics.size() > 1) {
    // Its heartbeats and lanes name an input partition by its number alone.
    problems.AddLater("ingest.pool_topic", absl::StrCat("needs a single topic in kafka.topics (",
                                                        config.kafka.topics.size(), " given)"));
  }
  if (rekey && config.ingest.rekey_topic.empty()) {
    problems.AddLater("ingest.rekey_topic", "must name the topic `faultline rekey` writes to");
  }
}

std::unique_ptr<Pipeline> Service::BuildPipeline(std::vector<std::unique_ptr<Detector>> detectors,
                                                 bool split_pools, settings::Problems& problems) {
  const Config& config = config_;
  const bool dry_run = options_.input == ServiceOptions::Input::kNone;
  const bool durable = options_.durable && !dry_run;
  const bool rekey = options_.role == ServiceOptions::Role::kRekey;
  const std::string& pool_topic = config.ingest.pool_topic;
  // The topics the pipeline produces to besides alerts, on the input's cluster: a producer per
  // worker, so that no worker waits for another's.
  auto producer = [&](std::string what, const char* key,
                      const std::string& topic) -> std::unique_ptr<RecordOutput> {
    auto p = TopicProducer::Create(std::move(what), config.kafka.brokers, topic,
                                   config.kafka.properties);
    if (p.ok()) return *std::move(p);
    problems.AddLater(key, std::string(p.status().message()));
    return nullptr;
  };
  std::unique_ptr<RecordOutput> dead_letters, rekeyed;
  if (durable && !config.ingest.dead_letter_topic.empty()) {
    dead_letters =
        producer("dead letters", "ingest.dead_letter_topic", config.ingest.dead_letter_topic);
  }
  std::unique_ptr<RecordOutput> pool_records;
  if (split_pools) {
    pool_records = producer("pool topic records", "ingest.pool_topic", pool_topic);
  }
  if (rekey && !dry_run && !config.ingest.rekey_topic.empty()) {
    rekeyed = producer("rekeyed events", "ingest.rekey_topic", config.ingest.rekey_topic);
  }
  if (!problems.empty()) return nullptr;
  const EngineOptions engine{
      .dedupe_window = config.detect.dedupe_window,
      .allowed_lateness = config.detect.context.allowed_lateness,
      .max_clock_skew = config.detect.max_clock_skew,
      .max_event_age = config.detect.max_event_age,
      .max_hosts = static_cast<size_t>(std::max(config.detect.max_hosts, 1))};
  std::vector<std::unique_ptr<Detector>> by_host, by_pool;
  for (auto& d : detectors) {
    (split_pools && d->state_key() == StateKey::kAppPool ? by_pool : by_host)
        .push_back(std::move(d));
  }
  PoolForward* forward = nullptr;
  if (!by_pool.empty()) {
    auto f = std::make_unique<PoolForward>(by_pool);
    forward = f.get();
    by_host.push_back(std::move(f));
  }
  // Every event data item by name only for a detector that reads them (Sigma): it costs.
  EnvelopeOptions envelope = config.ingest.envelope;
  for (const auto& d : by_host) envelope.all_fields = envelope.all_fields || d->needs_all_fields();
  auto pipeline =
      std::make_unique<Pipeline>(std::make_unique<EnvelopeParser>(envelope),
                                 std::make_unique<Engine>(std::move(by_host), engine), dispatcher_,
                                 config.ingest.max_message_bytes, std::move(dead_letters),
                                 *options_.clock, config.delivery.shutdown_timeout);
  if (rekeyed) pipeline->ForwardEventsTo(std::move(rekeyed));
  if (forward != nullptr) {
    EngineOptions judged = engine;
    judged.judge_hosts = false;
    pipeline->SplitPools(pool_topic, config.kafka.topics.empty() ? "" : config.kafka.topics[0],
                         std::make_unique<Engine>(std::move(by_pool), judged),
                         std::move(pool_records));
    Pipeline* p = pipeline.get();
    forward->Connect([p](const Event& event) { p->ForwardToPool(event); });
  }
  return pipeline;
}

absl::Status Service::BuildSources() {
  switch (options_.input) {
    case ServiceOptions::Input::kNone:
      return absl::OkStatus();
    case ServiceOptions::Input::kFiles: {
      absl::StatusOr<std::unique_ptr<FileSource>> files =
          FileSource::Create(options_.files, *options_.clock, config_.ingest.max_message_bytes);
      if (!files.ok()) return files.status();
      workers_.front().source = std::move(*files);
      return absl::OkStatus();
    }
    case ServiceOptions::Input::kKafka: {
      KafkaSourceConfig kafka_config = config_.kafka;
      const Pipeline& pipeline = *workers_.front().pipeline;
      const bool several = workers_.size() > 1;
      // The rekey role restores the forwarders' order across an unkeyed topic's partitions.
      if (options_.role == ServiceOptions::Role::kRekey) {
        kafka_config.merge_wait = kRekeyMergeWait;
      } else {
        // A partition this member is given is read again from as far back as a detector's
        // windows reach (plus the lateness), so an incident under way is not lost to a restart
        // or a rebalance.
        absl::Duration horizon;
        for (const Detector* d : pipeline.detectors()) horizon = std::max(horizon, d->horizon());
        // The pool topic is read in the same group: restored as the input is.
        if (pipeline.pool_topic() != nullptr) {
          kafka_config.topics.push_back(config_.ingest.pool_topic);
          kafka_config.group_end_topics.push_back(config_.ingest.pool_topic);
        }
        if (horizon > absl::ZeroDuration()) {
          kafka_config.restore_span =
              horizon + config_.detect.context.allowed_lateness + kafka_config.restore_batching;
        }
      }
      // Workers stopping at the end stop together (KafkaSource::StopTogether).
      auto end = std::make_shared<SharedEnd>(workers_.size());
      for (size_t i = 0; i < workers_.size(); ++i) {
        KafkaSourceConfig member = kafka_config;
        if (several) {
          // Each worker is a member of its own: a static one needs an id of its own.
          const std::string suffix = absl::StrCat("-", i);
          member.client_id += suffix;
          if (!member.group_instance_id.empty()) member.group_instance_id += suffix;
        }
        absl::StatusOr<std::unique_ptr<KafkaSource>> kafka =
            KafkaSource::Create(member, *options_.clock);
        if (!kafka.ok()) return kafka.status();
        if (several) (*kafka)->StopTogether(end, i);
        workers_[i].kafka = kafka->get();
        workers_[i].source = std::move(*kafka);
      }
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown input");
}

absl::Status Service::StartMetrics() {
  // The service's endpoint: a replay beside a running service must not take its port.
  const std::string& listen = config_.metrics.listen;
  if (listen.empty() || kafka() == nullptr) return absl::OkStatus();
  std::vector<const KafkaSource*> sources;
  for (const Worker& w : workers_) sources.push_back(w.kafka);
  const std::vector<const Pipeline*> all = pipelines();
  Clock* clock = options_.clock;
  const absl::Time started = clock->TimeNow();
  // Alive while every worker's consumer loop turns (each ticks every second, back-pressure or
  // not).
  auto live = [all, started, clock](std::string* why) {
    for (size_t i = 0; i < all.size(); ++i) {
      const int64_t tick = all[i]->stats().last_tick_unix_ms.load();
      const absl::Time last = tick == 0 ? started : absl::FromUnixMillis(tick);
      const absl::Duration quiet = clock->TimeNow() - last;
      if (quiet < absl::Minutes(1)) continue;
      *why = absl::StrCat(all.size() > 1 ? absl::StrCat("worker ", i, ": ") : "",
                          "the consumer loop has not turned for ",
                          absl::FormatDuration(absl::Trunc(quiet, absl::Seconds(1))));
      return false;
    }
    return true;
  };
  auto ready = [sources](std::string* why) {
    for (const KafkaSource* k : sources) {
      if (k->stats().joined.load()) continue;
      *why = "not (yet) a member of the consumer group";
      return false;
    }
    return true;
  };
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start(
      listen, std::make_shared<FaultlineMetrics>(all, sources), live, ready, metrics_web_);
  if (!endpoint.ok()) return endpoint.status();
  metrics_ = std::move(*endpoint);
  LogInfo(absl::StrCat("metrics on ", metrics_->scheme(), "://",
                       listen.substr(0, listen.rfind(':')), ":", metrics_->port(),
                       "/metrics (and /healthz, /readyz)",
                       metrics_web_.basic_auth_users.empty() ? "" : ", basic auth"));
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
  if (status.ok() && workers_.front().source != nullptr) {
    if (kafka() != nullptr) {
      LogInfo(absl::StrCat("consuming ", absl::StrJoin(config_.kafka.topics, ","), " from ",
                           config_.kafka.brokers, " as group ", config_.kafka.group_id, " with ",
                           workers_.size(), " worker(s)",
                           workers_why_.empty() ? "" : absl::StrCat(" (", workers_why_, ")")));
    }
    status = workers_.size() == 1 ? workers_.front().source->Run(*workers_.front().pipeline, stop)
                                  : RunWorkers(stop);
    if (kafka() != nullptr) {
      auto sum = [this](std::atomic<uint64_t> KafkaSource::Stats::*c) {
        uint64_t n = 0;
        for (const Worker& w : workers_) n += (w.kafka->stats().*c).load();
        return n;
      };
      using S = KafkaSource::Stats;
      LogInfo(absl::StrFormat(
          "stopped: %d commits (%d failed), %d consumer errors, %d rebalances, %d back-pressure "
          "pauses",
          sum(&S::commits), sum(&S::commit_failures), sum(&S::consumer_errors), sum(&S::rebalances),
          sum(&S::pauses)));
    }
  }
  while (started > 0) stages_[--started].stop();
  if (!undelivered_.empty()) {
    // A run that read its input to the end (replay, --exit-at-end) did not do its job: not a
    // success. One stopped (SIGTERM) or failed only says so: what was left waits in the spool
    // or behind uncommitted offsets for the next start.
    if (status.ok() && !stop.load()) {
      status = absl::UnavailableError(undelivered_);
    } else {
      LogWarning(undelivered_);
    }
  }
  return status;
}

absl::Status Service::RunWorkers(const std::atomic<bool>& stop) {
  // `halt` stops every worker: on `stop`, or when one of them failed.
  std::atomic<bool> halt{false};
  std::mutex mu;
  std::condition_variable ended;
  size_t running = workers_.size();
  std::vector<absl::Status> results(workers_.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers_.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = workers_[i].source->Run(*workers_[i].pipeline, halt);
      if (!results[i].ok()) halt.store(true);
      std::lock_guard<std::mutex> lock(mu);
      --running;
      ended.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    while (running > 0) {
      ended.wait_for(lock, std::chrono::milliseconds(50));
      if (stop.load()) halt.store(true);
    }
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
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

// faultline as one object: the composition root, and the only code that sees every stage
// (Redpanda's `application` is the model). Every command (run, replay, demo, check-config) and
// the cross-stage tests build it the same way from a Config.
//
// Create() builds what can fail on a bad configuration, reporting every problem of every plugin
// at once: the Dispatcher (the sinks, the spool opened and read) and the workers (kafka.workers;
// one for files and check-config), each a pipeline (the dead-letter and pool topic producers, the
// EnvelopeParser, the engines with their detectors; app/pipeline.h) with its source (a Kafka
// consumer-group member, subscribed but connecting lazily; or the JSON-lines files). No thread
// of faultline's own runs and nothing is delivered before Run() (librdkafka's clients start their
// threads when created); check-config opens, creates and writes nothing at all. Run() starts, in
// order:
//   delivery   the dispatcher's sink workers and the journal
//   metrics    the /metrics, /healthz, /readyz listener, for a Kafka input with metrics.listen
//   progress   the progress line on stderr
//   workers    each worker's source (one: on the calling thread; several: a thread each) until
//              its input ends, `stop` turns true (SIGTERM) or one of them fails,
// then stops what it started in reverse order. Each source's own stop comes first: it stops
// fetching, drains its pipeline (the sinks get delivery.shutdown_timeout) and commits what was
// delivered. A stage that cannot start stops those started before it, in reverse, and its error
// is returned.
//
// Errors become the process's exit status in one place, ExitCode().
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "app/config.h"
#include "app/pipeline.h"
#include "app/web_config.h"
#include "core/clock.h"

namespace faultline {

class KafkaSource;
class MetricsEndpoint;
class ProgressReporter;

// The rekey role's kafka merge_wait: how long it waits for a partition of an unkeyed topic before
// handing over later messages of the others (Kafka Streams' max.task.idle.ms).
inline constexpr absl::Duration kRekeyMergeWait = absl::Milliseconds(500);

struct ServiceOptions {
  enum class Input {
    kKafka,  // config.kafka's consumer group (run, demo)
    kFiles,  // `files`, JSON lines; "-" is stdin (replay)
    kNone,   // check-config: build every stage, start none, connect nowhere, write nothing
  };
  Input input = Input::kKafka;
  enum class Role {
    kDetect,  // parse, detect, deliver alerts (run, replay, demo)
    kRekey,   // parse, publish every event to ingest.rekey_topic keyed by host (rekey)
  };
  Role role = Role::kDetect;
  std::vector<std::string> files;
  // Delivery as `run` has it: alerts journaled in delivery.spool_dir, rejects published to
  // ingest.dead_letter_topic. Without it (replay, the demo) alerts stay in memory and rejects are
  // only counted.
  bool durable = false;
  absl::Duration progress_every = absl::ZeroDuration();
  Clock* clock = &RealClock::Get();
  std::FILE* stdout_stream = stdout;
};

class Service {
 public:
  // kInvalidArgument (every problem, one per line): what the configuration asks for cannot be
  // built; kNotFound: an input file does not exist.
  static absl::StatusOr<std::unique_ptr<Service>> Create(const Config& config,
                                                         ServiceOptions options);
  ~Service();

  // Starts the stages, runs the source until its input ends or `stop`, stops them in reverse.
  // Once. Errors: a stage that could not start (kUnavailable: the metrics address cannot be
  // bound), the source's (kInternal: a fatal Kafka error).
  absl::Status Run(const std::atomic<bool>& stop);

  // The first worker's pipeline (every worker's has the same detectors and the one dispatcher).
  const Pipeline& pipeline() const { return *workers_.front().pipeline; }
  // Every worker's pipeline (kafka.workers; one for files and check-config).
  std::vector<const Pipeline*> pipelines() const;
  // The run's summary line, every worker's counters summed (Pipeline::SummaryJson).
  std::string SummaryJson() const { return Pipeline::SummaryJson(pipelines()); }
  // Null unless the input is Kafka: the first worker's consumer.
  const KafkaSource* kafka() const { return workers_.front().kafka; }

 private:
  // One step of the lifecycle: started by Run() in order, stopped in reverse.
  struct Stage {
    std::string name;
    std::function<absl::Status()> start;
    std::function<void()> stop;
  };

  // One worker thread: a pipeline and the source that drives it (a member of the consumer group
  // with its own partitions, or the files).
  struct Worker {
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<Source> source;
    KafkaSource* kafka = nullptr;  // source, when it is Kafka
  };

  Service(Config config, ServiceOptions options);
  // How many workers the configuration asks for (kafka.workers; 1 for files); an error when more
  // than one would split what a detector must see whole.
  // Sets workers_why_ when it gives fewer than kafka.workers: 0 asked for.
  int WorkerCount(bool pool_keyed_detectors, bool split_pools, settings::Problems& problems);
  // The detectors, the sinks and every worker's pipeline; what cannot be built from the
  // configuration is added to `problems` (an error only for what the configuration cannot cause).
  absl::Status BuildPipelines(settings::Problems& problems);
  // The topics faultline reads and writes besides the input, against each other and the role.
  void CheckTopics(settings::Problems& problems) const;
  // One worker's pipeline around `detectors` and the shared dispatcher.
  std::unique_ptr<Pipeline> BuildPipeline(std::vector<std::unique_ptr<Detector>> detectors,
                                          bool split_pools, settings::Problems& problems);
  absl::Status BuildSources();
  absl::Status StartMetrics();
  // Runs every worker's source on a thread of its own until all have returned; the first error.
  absl::Status RunWorkers(const std::atomic<bool>& stop);

  const Config config_;
  const ServiceOptions options_;
  std::shared_ptr<Dispatcher> dispatcher_;  // the sinks, shared by the workers
  std::vector<Worker> workers_;
  std::string workers_why_;  // why kafka.workers: 0 (one per core) gave one worker
  std::unique_ptr<MetricsEndpoint> metrics_;
  WebConfig metrics_web_;  // metrics.web_config_file, read by Create
  std::unique_ptr<ProgressReporter> progress_;
  std::vector<Stage> stages_;
  bool ran_ = false;
  std::string undelivered_;  // set by the delivery stage's stop: alerts left or lost, if any
};

// The CPUs the cgroup under `root` (/sys/fs/cgroup: v2's cpu.max, or v1's cpu/cpu.cfs_*) lets
// this process use, rounded up; 0 when it sets no quota (or none is readable).
int CgroupCpuLimit(const std::string& root);

// The process's exit status for `status`, the one place errors become exit codes:
//   0  ok
//   2  the command was called wrongly (a usage error) or its configuration or input cannot be
//      used (kInvalidArgument, kNotFound): nothing ran
//   1  anything else: a runtime failure (a port taken, a fatal Kafka error, a read error)
int ExitCode(const absl::Status& status);

}  // namespace faultline

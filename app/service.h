// faultline as one object: the composition root, and the only code that sees every stage
// (Redpanda's `application` is the model). Every command (run, replay, demo, check-config) and
// the cross-stage tests build it the same way from a Config.
//
// Create() builds what can fail on a bad configuration, reporting every problem of every plugin
// at once: the pipeline (the sinks behind the Dispatcher, the spool opened and read, the
// dead-letter producer, the EnvelopeParser, the Engine with its detectors; app/pipeline.h) and
// the source (the Kafka consumer-group member, subscribed but connecting lazily; or the JSON-lines
// files). No thread of faultline's own runs and nothing is delivered before Run() (librdkafka's
// clients start their threads when created); check-config opens, creates and writes nothing at
// all. Run() starts, in order:
//   pipeline   the dispatcher's sink workers and the journal
//   metrics    the /metrics, /healthz, /readyz listener, for a Kafka input with metrics.listen
//   progress   the progress line on stderr
//   source     on the calling thread, until its input ends,
// `stop` turns true (SIGTERM) or it fails, then stops what it started in reverse order. The
// source's own stop comes first: it stops fetching, drains the pipeline (the sinks get
// delivery.shutdown_timeout) and commits what was delivered. A stage that cannot start stops
// those started before it, in reverse, and its error is returned.
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
#include "core/clock.h"

namespace faultline {

class KafkaSource;
class MetricsEndpoint;
class ProgressReporter;

struct ServiceOptions {
  enum class Input {
    kKafka,  // config.kafka's consumer group (run, demo)
    kFiles,  // `files`, JSON lines; "-" is stdin (replay)
    kNone,   // check-config: build every stage, start none, connect nowhere, write nothing
  };
  Input input = Input::kKafka;
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

  const Pipeline& pipeline() const { return *pipeline_; }
  // Null unless the input is Kafka.
  const KafkaSource* kafka() const { return kafka_; }

 private:
  // One step of the lifecycle: started by Run() in order, stopped in reverse.
  struct Stage {
    std::string name;
    std::function<absl::Status()> start;
    std::function<void()> stop;
  };

  Service(Config config, ServiceOptions options);
  absl::Status BuildPipeline(std::vector<std::string>* errors);
  absl::Status BuildSource();
  absl::Status StartMetrics();

  const Config config_;
  const ServiceOptions options_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Source> source_;
  KafkaSource* kafka_ = nullptr;  // source_, when it is Kafka
  std::unique_ptr<MetricsEndpoint> metrics_;
  std::unique_ptr<ProgressReporter> progress_;
  std::vector<Stage> stages_;
  bool ran_ = false;
};

// The process's exit status for `status`, the one place errors become exit codes:
//   0  ok
//   2  the command was called wrongly (a usage error) or its configuration or input cannot be
//      used (kInvalidArgument, kNotFound): nothing ran
//   1  anything else: a runtime failure (a port taken, a fatal Kafka error, a read error)
int ExitCode(const absl::Status& status);

}  // namespace faultline

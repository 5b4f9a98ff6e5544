// The Dispatcher sits between detection and the sinks. The detect thread hands it each alert
// (Submit never blocks); every sink has its own bounded queue and worker thread that delivers
// in order, batches up to the sink's max_batch(), and retries what the sink reports as retryable
// with exponential backoff, jitter and the peer's Retry-After. When an alert has reached every
// sink (delivered, refused for good, or dropped by policy), or, with a spool, once it is durable
// on disk, the alert's DeliveryTicket is told, and the source may commit past the event that
// caused it.
//
// A full queue either drops new alerts (counted) or, by default, makes Saturated() true until
// the queue has drained to half: the Kafka source then pauses its partitions (back-pressure), so
// nothing is lost and memory stays bounded.
//
// Threads: Submit() and Saturated() on the detect thread; one worker per sink; with a spool, one
// journal thread that appends alerts to the spool before they are queued to the sinks. Stats are
// atomics, read by the metrics endpoint.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/delivery.h"
#include "core/histogram.h"
#include "sinks/sink.h"

namespace faultline {

class Spool;

// The dispatcher's settings for one sink's queue: its entry's keys, else delivery's (app/).
struct QueueOptions {
  std::string name;  // unique in a pipeline: log prefix, metrics label, spool cursor
  size_t capacity = 10000;
  bool drop_when_full = false;  // false: back-pressure
  absl::Duration retry_backoff = absl::Seconds(1);
  absl::Duration retry_backoff_max = absl::Minutes(1);
  // A peer's Retry-After is honoured up to this long.
  absl::Duration retry_after_max = absl::Minutes(10);
};

struct SinkStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};   // refused for good by the destination
  std::atomic<uint64_t> retried{0};  // alerts sent again after a retryable failure
  std::atomic<uint64_t> dropped{0};  // queue full with on_full: drop
  std::atomic<uint64_t> queued{0};   // in the queue now, the batch being delivered included
  std::atomic<bool> saturated{false};
  LatencyHistogram latency;  // queued -> delivered
};

class Dispatcher {
 public:
  struct Route {
    QueueOptions queue;
    std::string type;
    std::unique_ptr<Sink> sink;
  };

  // Starts one worker per route. With `spool_dir`, opens the spool and queues what each sink had
  // not delivered when faultline last stopped. Errors: duplicate sink names, an unusable spool.
  static absl::StatusOr<std::unique_ptr<Dispatcher>> Create(std::vector<Route> routes,
                                                            const std::string& spool_dir,
                                                            Clock& clock);
  ~Dispatcher();

  // Queues `alert` for every sink; never blocks. `ticket` may be null.
  void Submit(std::shared_ptr<const Alert> alert, const std::shared_ptr<DeliveryTicket>& ticket);

  // True while some queue with back-pressure is full (until it drained to half its capacity).
  bool Saturated() const;

  // Waits up to `timeout` for every queue to empty, then stops the workers; what was not
  // delivered by then stays unacknowledged (and in the spool). Idempotent.
  void Stop(absl::Duration timeout);

  struct SinkInfo {
    const std::string& name;
    const std::string& type;
    size_t capacity;
    const SinkStats& stats;
  };
  std::vector<SinkInfo> sinks() const;
  // Null without a spool.
  const Spool* spool() const { return spool_.get(); }
  uint64_t spool_write_errors() const { return spool_write_errors_.load(); }

 private:
  class Worker;
  struct Pending;
  explicit Dispatcher(Clock& clock);
  void JournalLoop();
  bool Idle();

  Clock& clock_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Pending> pending_;  // alerts on their way into the spool
  std::thread journal_;
  std::atomic<uint64_t> spool_write_errors_{0};
  bool stopped_ = false;
};

}  // namespace faultline
